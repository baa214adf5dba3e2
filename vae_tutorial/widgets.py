"""Interactive explorers built from ipywidgets and matplotlib (introduced in notebook 03).

``KLExplorer`` puts two sliders, for the mean ``mu`` and the standard deviation ``sigma``
of q = N(mu, sigma^2), next to a plot of q against a fixed Gaussian p and a label with
both KL divergences, KL(q || p) and KL(p || q), in nats. Moving a slider redraws the plot
and the label at once (the callback is wired with ``slider.observe``), live in
JupyterLab. The explorer can also be driven from Python, which is how the notebook's
check cell and ``tests/test_widgets.py`` test it without a browser.

The plot is drawn on a ``matplotlib.figure.Figure`` that never touches pyplot, rendered
to PNG and stored as the ``ipywidgets.Output`` widget's one output. That works the same
with any matplotlib backend (``%matplotlib inline`` included), leaves no open pyplot
figures behind, and keeps the picture in the saved widget state of an executed notebook.
"""

from __future__ import annotations

import base64
import io
import math

import ipywidgets
import numpy as np
from matplotlib.figure import Figure

from .probability import kl_univariate_gaussians

_LOG_NORMALIZER = 0.5 * math.log(2.0 * math.pi)


def _check_number(value, name: str) -> float:
    """``value`` as a finite float, or a ValueError naming ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real number; got {value!r}.") from exc
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite; got {value!r}.")
    return number


def _check_range(value, name: str, *, positive: bool = False) -> tuple[float, float]:
    """``value`` as a (low, high) pair of finite floats with low < high."""
    try:
        low, high = value
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a pair (low, high); got {value!r}.") from exc
    low, high = _check_number(low, f"{name}[0]"), _check_number(high, f"{name}[1]")
    if not low < high:
        raise ValueError(f"{name} must satisfy low < high; got ({low:g}, {high:g}).")
    if positive and low <= 0:
        raise ValueError(
            f"{name} must hold positive standard deviations; got a low end of {low:g}.")
    return low, high


def _normal_density(x: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2 - math.log(sigma) - _LOG_NORMALIZER)


class KLExplorer:
    """Sliders for q = N(mu, sigma^2), drawn against p = N(mu_p, sigma_p^2), with both KLs.

    Parameters
    ----------
    mu_p, sigma_p:
        The fixed distribution p; ``sigma_p`` is a standard deviation and must be > 0.
        Default: the standard normal, the prior of a VAE.
    mu, sigma:
        Starting values of the sliders (q's mean and standard deviation); they must lie
        inside ``mu_range`` and ``sigma_range``.
    mu_range:
        (low, high) of the mean slider, low < high.
    sigma_range:
        (low, high) of the standard-deviation slider, 0 < low < high. The slider moves in
        equal steps of log10(sigma), so small sigmas get as much room as large ones.

    Attributes
    ----------
    widget:
        The ``ipywidgets.VBox`` to display (the last expression of a cell, or ``display``).
    mu, sigma:
        The two sliders; setting ``.value`` from Python redraws, like moving them does.
    kl_label:
        The ``ipywidgets.HTML`` line showing KL(q || p) and KL(p || q) in nats.
    output:
        The ``ipywidgets.Output`` holding the plot (one PNG ``display_data`` output).
    figure:
        The matplotlib ``Figure`` drawn last (for inspection; it is not shown by pyplot).
    """

    def __init__(self, mu_p: float = 0.0, sigma_p: float = 1.0, *, mu: float = 0.0,
                 sigma: float = 1.0, mu_range=(-4.0, 4.0), sigma_range=(0.1, 3.0)):
        self.mu_p = _check_number(mu_p, "mu_p")
        self.sigma_p = _check_number(sigma_p, "sigma_p")
        if self.sigma_p <= 0:
            raise ValueError(
                f"sigma_p must be positive (a standard deviation); got {self.sigma_p:g}.")
        mu_low, mu_high = _check_range(mu_range, "mu_range")
        sigma_low, sigma_high = _check_range(sigma_range, "sigma_range", positive=True)
        mu = _check_number(mu, "mu")
        sigma = _check_number(sigma, "sigma")
        if not mu_low <= mu <= mu_high:
            raise ValueError(f"mu must lie in mu_range ({mu_low:g}, {mu_high:g}); got {mu:g}.")
        if not sigma_low <= sigma <= sigma_high:
            raise ValueError(
                f"sigma must lie in sigma_range ({sigma_low:g}, {sigma_high:g}); got {sigma:g}.")

        # A fixed x-axis, so the picture does not jump while a slider moves.
        reach = 4.0 * self.sigma_p
        self._x = np.linspace(min(mu_low, self.mu_p - reach) - 1.0,
                              max(mu_high, self.mu_p + reach) + 1.0, 801)
        self._p = _normal_density(self._x, self.mu_p, self.sigma_p)

        self.mu = ipywidgets.FloatSlider(
            value=mu, min=mu_low, max=mu_high, step=0.05, description="μ (mean of q)",
            continuous_update=True, readout_format=".2f", style={"description_width": "initial"},
            layout=ipywidgets.Layout(width="420px"))
        self.sigma = ipywidgets.FloatLogSlider(
            value=sigma, base=10, min=math.log10(sigma_low), max=math.log10(sigma_high),
            step=0.01, description="σ (std of q)", continuous_update=True,
            readout_format=".3f", style={"description_width": "initial"},
            layout=ipywidgets.Layout(width="420px"))
        self.kl_label = ipywidgets.HTML()
        self.output = ipywidgets.Output(layout=ipywidgets.Layout(min_height="300px"))
        self.widget = ipywidgets.VBox([self.mu, self.sigma, self.kl_label, self.output])
        self.figure = None

        self.mu.observe(self._on_change, names="value")
        self.sigma.observe(self._on_change, names="value")
        self.update()

    # ------------------------------------------------------------------ values

    @property
    def kl(self) -> float:
        """KL(q || p) in nats for the sliders' current q (read-only)."""
        return float(kl_univariate_gaussians(self.mu.value, self.sigma.value,
                                             self.mu_p, self.sigma_p))

    @property
    def kl_forward(self) -> float:
        """KL(p || q) in nats, the other direction (read-only)."""
        return float(kl_univariate_gaussians(self.mu_p, self.sigma_p,
                                             self.mu.value, self.sigma.value))

    # ------------------------------------------------------------------ drawing

    def _on_change(self, change) -> None:
        self.update()

    def update(self) -> None:
        """Redraw the plot and the KL label for the sliders' current values."""
        mu, sigma = float(self.mu.value), float(self.sigma.value)
        kl_qp, kl_pq = self.kl, self.kl_forward
        self.kl_label.value = (
            f"<b>KL(q ‖ p) = {kl_qp:.4f} nats</b> &nbsp;·&nbsp; KL(p ‖ q) = {kl_pq:.4f} nats"
            f" &nbsp;(q = N({mu:.2f}, {sigma:.3f}²), p = N({self.mu_p:g}, {self.sigma_p:g}²))"
        )
        self.figure = self._draw(mu, sigma, kl_qp, kl_pq)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        png = base64.b64encode(buffer.getvalue()).decode("ascii")
        # Replacing the outputs in one assignment redraws without flicker, with or without
        # a kernel, and the PNG is kept in the notebook's saved widget state.
        self.output.outputs = ({
            "output_type": "display_data",
            "data": {"image/png": png,
                     "text/plain": f"<q = N({mu:.2f}, {sigma:.3f}^2) against p>"},
            "metadata": {},
        },)

    def _draw(self, mu: float, sigma: float, kl_qp: float, kl_pq: float) -> Figure:
        fig = Figure(figsize=(7.6, 3.4), dpi=80)
        ax = fig.add_subplot()
        q = _normal_density(self._x, mu, sigma)
        ax.plot(self._x, self._p, color="black", lw=2,
                label=f"p = N({self.mu_p:g}, {self.sigma_p:g}²)")
        ax.plot(self._x, q, color="tab:orange", lw=2, label=f"q = N({mu:.2f}, {sigma:.2f}²)")
        ax.fill_between(self._x, q, color="tab:orange", alpha=0.2)
        ax.set_xlim(self._x[0], self._x[-1])
        ax.set_ylim(0.0, 1.1 * max(self._p.max(), q.max()))
        ax.set_xlabel("x")
        ax.set_ylabel("density")
        ax.set_title(f"KL(q‖p) = {kl_qp:.3f} nats, KL(p‖q) = {kl_pq:.3f} nats")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        fig.tight_layout()
        return fig

    def _repr_mimebundle_(self, **kwargs):
        """Show the widget when the explorer itself is a cell's last expression."""
        return self.widget._repr_mimebundle_(**kwargs)
