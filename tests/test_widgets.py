"""Tests for vae_tutorial.widgets, driven from Python with no browser and no kernel.

Setting a slider's ``.value`` fires the same ``observe`` callback that dragging it in
JupyterLab fires, so these tests check what a learner sees: the KL label, the ``kl``
property and the plot in the Output widget all change together, and bad constructor
arguments fail with a ValueError that names the argument.
"""

from __future__ import annotations

import base64
import math

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere

import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vae_tutorial.probability import kl_univariate_gaussians  # noqa: E402
from vae_tutorial.widgets import KLExplorer  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_bytes(explorer: KLExplorer) -> bytes:
    """The PNG of the Output widget's one output (and check it is a display_data PNG)."""
    outputs = explorer.output.outputs
    assert len(outputs) == 1, outputs
    assert outputs[0]["output_type"] == "display_data"
    data = base64.b64decode(outputs[0]["data"]["image/png"])
    assert data.startswith(PNG_MAGIC)
    return data


def test_layout_and_initial_state():
    explorer = KLExplorer(mu=1.0, sigma=0.5)
    assert isinstance(explorer.widget, ipywidgets.VBox)
    assert list(explorer.widget.children) == [
        explorer.mu, explorer.sigma, explorer.kl_label, explorer.output]
    assert isinstance(explorer.mu, ipywidgets.FloatSlider)
    assert isinstance(explorer.sigma, ipywidgets.FloatLogSlider)
    assert (explorer.mu.min, explorer.mu.max) == (-4.0, 4.0)
    assert 10 ** explorer.sigma.min == pytest.approx(0.1)
    assert 10 ** explorer.sigma.max == pytest.approx(3.0)
    # Drawn at once, before any slider moves.
    expected = kl_univariate_gaussians(1.0, 0.5, 0.0, 1.0)
    assert explorer.kl == pytest.approx(float(expected), rel=1e-12)
    assert f"{float(expected):.4f} nats" in explorer.kl_label.value
    png_bytes(explorer)


def test_kl_is_zero_when_q_equals_p_and_both_directions_are_shown():
    explorer = KLExplorer(mu_p=0.5, sigma_p=2.0, mu=0.5, sigma=2.0)
    assert explorer.kl == pytest.approx(0.0, abs=1e-12)
    assert explorer.kl_forward == pytest.approx(0.0, abs=1e-12)
    explorer.sigma.value = 1.0
    assert explorer.kl == pytest.approx(
        float(kl_univariate_gaussians(0.5, 1.0, 0.5, 2.0)), rel=1e-12)
    assert explorer.kl_forward == pytest.approx(
        float(kl_univariate_gaussians(0.5, 2.0, 0.5, 1.0)), rel=1e-12)
    assert explorer.kl != pytest.approx(explorer.kl_forward)  # KL is not symmetric
    assert f"{explorer.kl:.4f} nats" in explorer.kl_label.value
    assert f"{explorer.kl_forward:.4f} nats" in explorer.kl_label.value


@pytest.mark.parametrize("slider, value", [("mu", 2.0), ("mu", -3.5), ("sigma", 0.25),
                                           ("sigma", 2.5)])
def test_moving_a_slider_redraws_label_value_and_plot(slider, value):
    explorer = KLExplorer()
    label, kl, png = explorer.kl_label.value, explorer.kl, png_bytes(explorer)
    title = explorer.figure.axes[0].get_title()
    getattr(explorer, slider).value = value  # fires the observe callback, as dragging does
    mu, sigma = explorer.mu.value, explorer.sigma.value
    assert (mu if slider == "mu" else sigma) == pytest.approx(value)
    assert explorer.kl == pytest.approx(float(kl_univariate_gaussians(mu, sigma, 0.0, 1.0)))
    assert explorer.kl != kl
    assert explorer.kl_label.value != label
    assert f"{explorer.kl:.4f} nats" in explorer.kl_label.value
    assert png_bytes(explorer) != png
    assert explorer.figure.axes[0].get_title() != title


def test_observe_callbacks_are_wired_to_value_changes():
    explorer = KLExplorer()
    calls = []
    explorer.update = lambda: calls.append((explorer.mu.value, explorer.sigma.value))
    explorer.mu.value = 1.0
    explorer.sigma.value = 2.0
    assert calls == [(1.0, 1.0), (1.0, pytest.approx(2.0))]


def test_figure_has_title_labels_and_leaves_no_pyplot_figures():
    plt.close("all")
    explorer = KLExplorer(mu=-1.0)
    for value in (0.0, 1.0, 2.0):
        explorer.mu.value = value
    ax = explorer.figure.axes[0]
    assert "nats" in ax.get_title()
    assert ax.get_xlabel() and ax.get_ylabel()
    assert len(ax.get_legend().get_texts()) == 2  # p and q
    assert plt.get_fignums() == []


def test_plotted_density_of_q_matches_the_sliders():
    explorer = KLExplorer(mu=1.5, sigma=0.4)
    q_line = explorer.figure.axes[0].get_lines()[1]
    x, y = q_line.get_data()
    assert x[np.argmax(y)] == pytest.approx(1.5, abs=0.05)
    assert y.max() == pytest.approx(1.0 / (0.4 * math.sqrt(2 * math.pi)), rel=1e-3)


def test_kl_is_read_only():
    explorer = KLExplorer()
    with pytest.raises(AttributeError):
        explorer.kl = 1.0


@pytest.mark.parametrize("kwargs, name", [
    ({"sigma_p": 0.0}, "sigma_p"),
    ({"sigma_p": -1.0}, "sigma_p"),
    ({"sigma_p": float("nan")}, "sigma_p"),
    ({"mu_p": float("inf")}, "mu_p"),
    ({"mu_p": "zero"}, "mu_p"),
    ({"mu_range": (2.0, -2.0)}, "mu_range"),
    ({"mu_range": (1.0,)}, "mu_range"),
    ({"sigma_range": (0.0, 3.0)}, "sigma_range"),
    ({"sigma_range": (2.0, 1.0)}, "sigma_range"),
    ({"mu": 5.0}, "mu must lie in mu_range"),
    ({"sigma": 5.0}, "sigma must lie in sigma_range"),
    ({"sigma": float("nan")}, "sigma"),
])
def test_bad_arguments_raise_value_error_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        KLExplorer(**kwargs)


def test_exported_lazily_from_the_package():
    import vae_tutorial

    assert vae_tutorial.KLExplorer is KLExplorer
