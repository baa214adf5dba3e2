"""Tests for vae_tutorial.widgets, driven from Python with no browser and no kernel.

Setting a slider's ``.value`` fires the same ``observe`` callback that dragging it in
JupyterLab fires, so these tests check what a learner sees: the KL label, the ``kl``
property and the plot in the Output widget all change together, and bad constructor
arguments fail with a ValueError that names the argument.
"""

from __future__ import annotations

import base64
import math
import re

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere

import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import traitlets  # noqa: E402

from vae_tutorial.probability import kl_univariate_gaussians  # noqa: E402
from vae_tutorial.widgets import KLExplorer, LatentExplorer  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_bytes(explorer) -> bytes:
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
    for slider in (explorer.mu, explorer.sigma):
        assert isinstance(slider, ipywidgets.SelectionSlider)
        assert slider.continuous_update
    assert (explorer.mu_values[0], explorer.mu_values[-1]) == (-4.0, 4.0)
    assert (explorer.sigma_values[0], explorer.sigma_values[-1]) == (0.1, 3.0)
    assert (explorer.mu.value, explorer.sigma.value) == (1.0, 0.5)
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


def test_slider_grids_are_exact_decimals():
    explorer = KLExplorer()
    mu, sigma = np.array(explorer.mu_values), np.array(explorer.sigma_values)
    # the mean: every multiple of 0.05 from -4 to 4, each the float nearest to its decimal
    assert len(mu) == 161 and np.all(np.diff(mu) > 0)
    assert [float(f"{v:.2f}") for v in mu] == list(mu)
    np.testing.assert_allclose(np.diff(mu), 0.05, rtol=1e-9)
    # the standard deviation: every two-significant-digit number from 0.1 to 3
    assert len(sigma) == 90 + 21 and np.all(np.diff(sigma) > 0)
    assert [float(f"{v:.2g}") for v in sigma] == list(sigma)
    relative_step = np.diff(sigma) / sigma[:-1]
    assert 0.01 < relative_step.min() < 0.0102 and relative_step.max() < 0.1 + 1e-9
    assert [o[1] for o in explorer.sigma.options] == list(sigma)
    assert explorer.sigma.options[list(sigma).index(0.5)][0] == "0.50"  # the readout


def test_grids_hold_the_range_ends_and_off_grid_starting_values():
    explorer = KLExplorer(mu=0.123, sigma=0.1234, mu_range=(-1.01, 2.0),
                          sigma_range=(0.05, 7.0))
    assert explorer.mu_values[0] == -1.01 and explorer.mu_values[1] == -1.0
    assert 0.123 in explorer.mu_values and explorer.mu_values[-1] == 2.0
    assert (explorer.sigma_values[0], explorer.sigma_values[-1]) == (0.05, 7.0)
    assert 0.1234 in explorer.sigma_values and 0.051 in explorer.sigma_values
    assert explorer.sigma.label == "0.1234"
    assert explorer.kl == float(kl_univariate_gaussians(0.123, 0.1234, 0.0, 1.0))


def test_the_browser_syncs_an_integer_position_not_a_float():
    """A browser moves a SelectionSlider by its index, so it cannot round the value.

    (A FloatLogSlider with step 0.01 came back from JupyterLab as 0.501 for a sigma set to
    0.5, and the live label read KL 0.8164 under a printed 0.8181.)
    """
    explorer = KLExplorer(mu=1.0, sigma=0.5)
    for slider in (explorer.mu, explorer.sigma):
        state = slider.get_state()
        assert "value" not in state and isinstance(state["index"], int)
    sigma_index = explorer.sigma.index
    # what a browser sends when the handle moves one step to the right, then back
    explorer.sigma.set_state({"index": sigma_index + 1})
    assert explorer.sigma.value == 0.51
    assert f"{float(kl_univariate_gaussians(1.0, 0.51, 0.0, 1.0)):.4f} nats" in (
        explorer.kl_label.value)
    explorer.sigma.set_state({"index": sigma_index})
    assert explorer.sigma.value == 0.5


def test_notebook_03_values_are_exact_and_label_matches_the_printed_kl():
    """The settings notebook 03 uses give exactly the KL it prints (0.8181 nats at the start)."""
    explorer = KLExplorer(mu_p=0.0, sigma_p=1.0, mu=1.0, sigma=0.5)
    assert f"{explorer.kl:.4f}" == "0.8181"
    assert "KL(q ‖ p) = 0.8181 nats" in explorer.kl_label.value
    label_before, plot_before = explorer.kl_label.value, explorer.output.outputs
    for mu, sigma in [(-2.0, 0.5), (0.0, 1.0), (3.0, 2.0), (1.5, 1.0), (0.0, 0.3),
                      (0.0, 2.5), (1.0, 0.5)]:
        explorer.mu.value, explorer.sigma.value = mu, sigma
        assert (explorer.mu.value, explorer.sigma.value) == (mu, sigma)  # exactly
        assert explorer.kl == float(kl_univariate_gaussians(mu, sigma, 0.0, 1.0))
        assert f"{explorer.kl:.4f} nats" in explorer.kl_label.value
        if (mu, sigma) != (1.0, 0.5):
            assert explorer.kl_label.value != label_before
            assert explorer.output.outputs != plot_before
    assert explorer.kl_label.value == label_before  # back to the starting view


def test_a_value_off_the_grid_is_refused():
    explorer = KLExplorer()
    with pytest.raises(traitlets.TraitError):
        explorer.sigma.value = 0.505
    with pytest.raises(traitlets.TraitError):
        explorer.mu.value = 0.01
    assert (explorer.mu.value, explorer.sigma.value) == (0.0, 1.0)


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


# --------------------------------------------------------------------------- LatentExplorer


def blob_decode(z):
    """A numpy stand-in for a decoder: a bright blob whose position follows the code.

    z1 moves the blob right, z2 moves it up (4 pixels per unit); values lie in [0, 1].
    """
    z = np.asarray(z, dtype=np.float64)
    rows, cols = np.mgrid[0:28, 0:28]
    centre_col = 13.5 + 4.0 * z[:, 0, None, None]
    centre_row = 13.5 - 4.0 * z[:, 1, None, None]
    blob = np.exp(-((cols - centre_col) ** 2 + (rows - centre_row) ** 2) / 8.0)
    return blob.reshape(len(z), 784).astype(np.float32)


def marker_position(explorer) -> tuple[float, float]:
    ax_map = explorer.figure.axes[1]
    (marker,) = [line for line in ax_map.get_lines() if line.get_label() == "z"]
    x, y = marker.get_data()
    return float(x[0]), float(y[0])


def test_latent_explorer_layout_and_initial_state():
    explorer = LatentExplorer(blob_decode, z1=1.0, z2=-0.5)
    assert isinstance(explorer.widget, ipywidgets.VBox)
    assert list(explorer.widget.children) == [explorer.z1, explorer.z2, explorer.output]
    for slider in (explorer.z1, explorer.z2):
        assert isinstance(slider, ipywidgets.FloatSlider)
        assert (slider.min, slider.max) == (-3.0, 3.0)
    np.testing.assert_array_equal(explorer.code, [1.0, -0.5])
    np.testing.assert_allclose(explorer.image, blob_decode([[1.0, -0.5]]).reshape(28, 28))
    assert explorer.image.shape == (28, 28)
    assert marker_position(explorer) == (1.0, -0.5)
    png_bytes(explorer)  # drawn at once, before any slider moves


@pytest.mark.parametrize("slider, value", [("z1", 2.0), ("z1", -2.5), ("z2", 1.5),
                                           ("z2", -3.0)])
def test_latent_explorer_moving_a_slider_decodes_the_new_point(slider, value):
    explorer = LatentExplorer(blob_decode)
    image, png = explorer.image, png_bytes(explorer)
    getattr(explorer, slider).value = value  # fires the observe callback, as dragging does
    z1, z2 = explorer.z1.value, explorer.z2.value
    assert (z1 if slider == "z1" else z2) == pytest.approx(value)
    np.testing.assert_allclose(explorer.image, blob_decode([[z1, z2]]).reshape(28, 28),
                               rtol=1e-6)
    assert not np.allclose(explorer.image, image)
    assert png_bytes(explorer) != png
    assert marker_position(explorer) == pytest.approx((z1, z2))
    assert f"({z1:.2f}, {z2:.2f})" in explorer.figure.axes[0].get_title()


def test_latent_explorer_image_follows_the_sliders_along_a_path():
    explorer = LatentExplorer(blob_decode)
    for z1, z2 in [(-2.0, 2.0), (0.0, 0.0), (2.0, -2.0), (1.25, 2.5)]:
        explorer.z1.value, explorer.z2.value = z1, z2
        brightest = np.unravel_index(np.argmax(explorer.image), (28, 28))
        # the blob of blob_decode sits at row 13.5 - 4 z2, column 13.5 + 4 z1
        assert abs(brightest[0] - (13.5 - 4 * z2)) <= 0.5
        assert abs(brightest[1] - (13.5 + 4 * z1)) <= 0.5


def test_latent_explorer_sliders_do_not_send_back_values_set_from_python():
    # With continuous_update=True, JupyterLab's slider sends back every value the kernel
    # sets (its noUiSlider "update" event fires on programmatic moves too), rounded by its
    # own step arithmetic (2.0 returns as 2.000000000000001). Those echoes queue behind the
    # running cells, so after Run All both of notebook 06's explorers ended at z = (2, 2)
    # instead of where the last cell put them (seen in headless Chromium). With False the
    # browser only sends a value when the learner lets go of a slider.
    explorer = LatentExplorer(blob_decode, z1=-1.0, z2=1.5)
    for slider in (explorer.z1, explorer.z2):
        assert slider.continuous_update is False
        assert slider.get_state()["continuous_update"] is False  # what the browser receives
    explorer.z1.value, explorer.z2.value = 2.0, 2.0
    explorer.z1.value, explorer.z2.value = 0.0, 0.0  # the last values set are the ones kept
    np.testing.assert_array_equal(explorer.code, [0.0, 0.0])
    assert marker_position(explorer) == (0.0, 0.0)
    assert explorer.figure.axes[0].get_title() == "decoded z = (0.00, 0.00)"


def test_latent_explorer_observe_callbacks_are_wired_to_value_changes():
    explorer = LatentExplorer(blob_decode)
    calls = []
    explorer.update = lambda: calls.append((explorer.z1.value, explorer.z2.value))
    explorer.z1.value = 1.0
    explorer.z2.value = -1.0
    assert calls == [(1.0, 0.0), (1.0, -1.0)]


def test_latent_explorer_image_and_code_are_read_only():
    explorer = LatentExplorer(blob_decode)
    with pytest.raises(AttributeError):
        explorer.image = np.zeros((28, 28))
    with pytest.raises(AttributeError):
        explorer.code = np.zeros(2)
    with pytest.raises(ValueError):
        explorer.image[0, 0] = 1.0  # a read-only array: it cannot change behind the sliders


def test_latent_explorer_map_shows_the_codes_coloured_by_label():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(50, 2))
    labels = np.arange(50) % 10
    explorer = LatentExplorer(blob_decode, codes=codes, labels=labels, z_range=(-4.0, 4.0))
    ax_image, ax_map = explorer.figure.axes[:2]
    (scatter,) = ax_map.collections
    np.testing.assert_allclose(scatter.get_offsets(), codes)
    np.testing.assert_array_equal(scatter.get_array(), labels)
    assert ax_map.get_xlim() == (-4.0, 4.0) and ax_map.get_ylim() == (-4.0, 4.0)
    for ax in (ax_image, ax_map):
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    grey = LatentExplorer(blob_decode, codes=codes)  # codes without labels: one colour
    assert len(grey.figure.axes[1].collections) == 1


def test_latent_explorer_accepts_28_by_28_images_and_leaves_no_pyplot_figures():
    plt.close("all")
    explorer = LatentExplorer(lambda z: blob_decode(z).reshape(-1, 28, 28))
    explorer.z1.value = 1.0
    np.testing.assert_allclose(explorer.image, blob_decode([[1.0, 0.0]]).reshape(28, 28))
    assert plt.get_fignums() == []


def test_latent_explorer_decodes_with_a_vae():
    from vae_tutorial import build_vae

    vae = build_vae(latent_dim=2, hidden_units=(8,), seed=0)
    explorer = LatentExplorer(vae, z1=0.5, z2=-1.0)
    np.testing.assert_allclose(explorer.image, vae.decode([[0.5, -1.0]]).reshape(28, 28),
                               rtol=1e-5, atol=1e-6)
    explorer.z2.value = 2.0
    np.testing.assert_allclose(explorer.image, vae.decode([[0.5, 2.0]]).reshape(28, 28),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="needs a 2-D code; this VAE has latent_dim = 3"):
        LatentExplorer(build_vae(latent_dim=3, hidden_units=(8,), seed=0))


@pytest.mark.parametrize("decode, error, fragment", [
    ("vae.decode", TypeError, "decode must be a function from codes (N, 2)"),
    (lambda z: np.zeros((len(z), 100), np.float32), ValueError,
     "decode(z) must have shape (N, 28, 28) or (N, 784); got (1, 100)"),
    (lambda z: np.zeros(784, np.float32), ValueError,
     "for one code of shape (1, 2) it returned shape (784,)"),
    (lambda z: np.zeros((2, 784), np.float32), ValueError,
     "for one code of shape (1, 2) it returned shape (2, 784)"),
    (lambda z: 6.0 * blob_decode(z) - 3.0, ValueError, "needs a sigmoid"),
    (lambda z: np.full((1, 784), np.nan, np.float32), ValueError, "non-finite"),
    (lambda z: np.zeros((1, 784), np.uint8), TypeError, "must hold floats in [0, 1]"),
])
def test_latent_explorer_bad_decode_fails_clearly(decode, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        LatentExplorer(decode)


def test_latent_explorer_bad_decode_is_caught_when_a_slider_moves_too():
    def decode(z):  # fine at the origin, logits elsewhere
        return blob_decode(z) if np.all(np.asarray(z) == 0) else 10.0 * blob_decode(z)

    explorer = LatentExplorer(decode)
    with pytest.raises(ValueError, match=re.escape("must lie in [0, 1]")):
        explorer.z1.value = 1.0


@pytest.mark.parametrize("kwargs, name", [
    ({"z_range": (3.0, -3.0)}, "z_range must satisfy low < high"),
    ({"z_range": (0.0,)}, "z_range must be a pair"),
    ({"z1": 4.0}, "z1 must lie in z_range"),
    ({"z2": -3.5}, "z2 must lie in z_range"),
    ({"z1": float("nan")}, "z1 must be finite"),
    ({"step": 0.0}, "step must be positive"),
    ({"step": 10.0}, "step must be positive and at most"),
    ({"codes": np.zeros((5, 3))}, "codes must have shape (N, 2)"),
    ({"codes": np.zeros((5, 2)), "labels": [0, 1]}, "labels has 2 entries"),
    ({"labels": [0, 1]}, "pass codes as well"),
])
def test_latent_explorer_bad_arguments_raise_value_error_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=re.escape(name)):
        LatentExplorer(blob_decode, **kwargs)


def test_latent_explorer_exported_lazily_from_the_package():
    import vae_tutorial

    assert vae_tutorial.LatentExplorer is LatentExplorer


def test_an_explorer_displays_as_its_widget(monkeypatch):
    from vae_tutorial import KLExplorer

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    explorer = KLExplorer()
    explorer._ipython_display_()
    assert shown == [explorer.widget]
