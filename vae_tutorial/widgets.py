"""Interactive explorers: ipywidgets sliders that redraw a matplotlib picture (notebooks 03, 06).

Each explorer can also be driven from Python (set a slider's ``.value``), which is how the
notebooks' check cells and ``tests/test_widgets.py`` test it without a browser.
"""

from __future__ import annotations

import base64
import io
import math

import ipywidgets
import numpy as np
from matplotlib.figure import Figure

from .checks import as_array, check_images, check_labels, check_matrix, check_number, check_range
from .probability import LOG_2PI, kl_univariate_gaussians


def _normal_density(x: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2 - math.log(sigma) - 0.5 * LOG_2PI)


def _check_within(value: float, name: str, low: float, high: float, range_name: str) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must lie in {range_name} ({low:g}, {high:g}); got {value:g}.")


def _grid(candidates, low: float, high: float, start: float) -> tuple[float, ...]:
    """A slider's values: the candidates in [low, high], plus the ends and the start, sorted."""
    return tuple(sorted(v for v in {*candidates, low, high, start} if low <= v <= high))


def _grid_slider(values, value: float, description: str) -> ipywidgets.SelectionSlider:
    labels = [f"{v:.2f}" if float(f"{v:.2f}") == v else f"{v:.4g}" for v in values]
    return ipywidgets.SelectionSlider(
        options=list(zip(labels, values, strict=True)), value=value, description=description,
        continuous_update=True, style={"description_width": "initial"},
        layout=ipywidgets.Layout(width="420px"))


class _Explorer:
    """What both explorers share: sliders that redraw one PNG, displayed as ``widget``."""

    def _assemble(self, sliders, labels=(), *, min_height: str) -> None:
        """``widget``: the sliders, the labels and the Output; draw, and redraw on every move."""
        self.output = ipywidgets.Output(layout=ipywidgets.Layout(min_height=min_height))
        self.widget = ipywidgets.VBox([*sliders, *labels, self.output])
        self.update()
        for slider in sliders:
            slider.observe(lambda change: self.update(), names="value")

    def _show(self, text: str) -> None:
        """Store ``self.figure`` (never pyplot's) as the Output widget's one PNG output: the
        same with any backend, no open pyplot figures left, saved with the widget state."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        self.output.outputs = ({
            "output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                     "text/plain": text}},)

    def _ipython_display_(self):
        """Show the widget when the explorer is a cell's last expression (ipywidgets 7 and 8)."""
        from IPython.display import display

        display(self.widget)


class KLExplorer(_Explorer):
    """Sliders for q = N(mu, sigma^2), drawn against p = N(mu_p, sigma_p^2), with both KLs.

    ``mu_p``, ``sigma_p``: the fixed p (``sigma_p`` > 0); default N(0, 1), a VAE's prior.
    ``mu``, ``sigma``: the sliders' starting values, inside ``mu_range`` and ``sigma_range``
    = (low, high) (0 < low for sigma). The sliders are ``SelectionSlider``s over fixed grids,
    ``mu_values`` (the multiples of 0.05) and ``sigma_values`` (the numbers with two
    significant digits), each with its range's ends and starting value: the browser sends
    back a position, not a float of its own, so a value set from Python (0.5) is the value
    shown and used (a float slider echoed 0.501 back). Setting ``mu.value`` or
    ``sigma.value`` redraws like moving them; a value off the grid raises a ``TraitError``.

    Attributes: ``widget`` (the ``VBox`` to display), ``mu``, ``sigma`` (the sliders),
    ``kl_label`` (KL(q || p) and KL(p || q) in nats), ``output`` (the ``Output`` holding
    the plot as one PNG), ``figure`` (the matplotlib ``Figure`` drawn last, not pyplot's).
    Introduced in notebook 03.
    """

    def __init__(self, mu_p: float = 0.0, sigma_p: float = 1.0, *, mu: float = 0.0,
                 sigma: float = 1.0, mu_range=(-4.0, 4.0), sigma_range=(0.1, 3.0)):
        self.mu_p = check_number(mu_p, "mu_p")
        self.sigma_p = check_number(sigma_p, "sigma_p")
        if self.sigma_p <= 0:
            raise ValueError(
                f"sigma_p must be positive (a standard deviation); got {self.sigma_p:g}.")
        mu_low, mu_high = check_range(mu_range, "mu_range")
        sigma_low, sigma_high = check_range(sigma_range, "sigma_range", positive=True)
        mu, sigma = check_number(mu, "mu"), check_number(sigma, "sigma")
        _check_within(mu, "mu", mu_low, mu_high, "mu_range")
        _check_within(sigma, "sigma", sigma_low, sigma_high, "sigma_range")

        # A fixed x-axis, so the picture does not jump while a slider moves.
        reach = 4.0 * self.sigma_p
        self._x = np.linspace(min(mu_low, self.mu_p - reach) - 1.0,
                              max(mu_high, self.mu_p + reach) + 1.0, 801)
        self._p = _normal_density(self._x, self.mu_p, self.sigma_p)

        # float("35e-2") is the float nearest to 0.35, the same number as the literal 0.35
        steps = range(math.ceil(mu_low / 0.05 - 1e-9), math.floor(mu_high / 0.05 + 1e-9) + 1)
        self.mu_values = _grid((float(f"{k * 5}e-2") for k in steps), mu_low, mu_high, mu)
        exponents = range(math.floor(math.log10(sigma_low)) - 1,
                          math.floor(math.log10(sigma_high)) + 1)
        self.sigma_values = _grid((float(f"{m}e{e}") for e in exponents for m in range(10, 100)),
                                  sigma_low, sigma_high, sigma)
        self.mu = _grid_slider(self.mu_values, mu, "μ (mean of q)")
        self.sigma = _grid_slider(self.sigma_values, sigma, "σ (std of q)")
        self.kl_label = ipywidgets.HTML()
        self._assemble([self.mu, self.sigma], [self.kl_label], min_height="300px")

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

    def update(self) -> None:
        """Redraw the plot and the KL label for the sliders' current values."""
        mu, sigma = float(self.mu.value), float(self.sigma.value)
        kl_qp, kl_pq = self.kl, self.kl_forward
        self.kl_label.value = (
            f"<b>KL(q ‖ p) = {kl_qp:.4f} nats</b> &nbsp;·&nbsp; KL(p ‖ q) = {kl_pq:.4f} nats"
            f" &nbsp;(q = N({mu:.2f}, {sigma:.3f}²), p = N({self.mu_p:g}, {self.sigma_p:g}²))"
        )
        self.figure = Figure(figsize=(7.6, 3.4), dpi=80)
        ax = self.figure.add_subplot()
        q = _normal_density(self._x, mu, sigma)
        ax.plot(self._x, self._p, color="black", lw=2,
                label=f"p = N({self.mu_p:g}, {self.sigma_p:g}²)")
        ax.plot(self._x, q, color="tab:orange", lw=2, label=f"q = N({mu:.2f}, {sigma:.2f}²)")
        ax.fill_between(self._x, q, color="tab:orange", alpha=0.2)
        ax.set(xlim=(self._x[0], self._x[-1]), ylim=(0.0, 1.1 * max(self._p.max(), q.max())),
               xlabel="x", ylabel="density",
               title=f"KL(q‖p) = {kl_qp:.3f} nats, KL(p‖q) = {kl_pq:.3f} nats")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        self.figure.tight_layout()
        self._show(f"<q = N({mu:.2f}, {sigma:.3f}^2) against p>")


def _decode_function(decode):
    """``decode`` itself, or a 2-D model's decode method (LatentExplorer's first argument)."""
    method = getattr(decode, "decode", None)
    if callable(method):  # a model: its decode method, and a 2-D code
        latent_dim = getattr(decode, "latent_dim", 2)
        if latent_dim != 2:
            raise ValueError(
                f"LatentExplorer has two sliders, so it needs a 2-D code; this "
                f"{type(decode).__name__} has latent_dim = {latent_dim}.")
        return method
    if not callable(decode):
        raise TypeError(
            "decode must be a function from codes (N, 2) to images (N, 784) in [0, 1], "
            f"or a model with a decode method (a 2-D VAE); got {type(decode).__name__}.")
    return decode


class LatentExplorer(_Explorer):
    """Two sliders pick a code z = (z1, z2); the decoder's image of z is drawn live, next to
    a map of the code space marking where z lies.

    ``decode``: a function from codes (N, 2) to images in [0, 1], (N, 784) or (N, 28, 28)
    (``vae.decode``, or ``lambda z: sigmoid(decoder(z))`` for an autoencoder), or a model
    with such a ``decode`` method and ``latent_dim == 2``; what it returns for each code is
    checked (shape, values in [0, 1]). ``z1``, ``z2``: the starting code, inside ``z_range``
    = (low, high) (default (-3, 3), three prior standard deviations). ``step``: the slider
    step, > 0. ``codes`` (M, 2), digit ``labels`` (M,): optional background of the code map.

    Attributes: ``widget`` (the ``VBox`` to display), ``z1``, ``z2`` (the ``FloatSlider``s;
    setting ``.value`` redraws), ``output`` (the ``Output`` holding the decoded image and
    the map with a cross at z, one PNG), ``figure`` (its matplotlib ``Figure``; the map is
    drawn once), ``image`` (the decoded (28, 28) image, read-only), ``code`` ((2,)).
    Introduced in notebook 06.
    """

    def __init__(self, decode, *, z1: float = 0.0, z2: float = 0.0, z_range=(-3.0, 3.0),
                 step: float = 0.05, codes=None, labels=None):
        self._decode = _decode_function(decode)
        low, high = check_range(z_range, "z_range")
        z1, z2 = check_number(z1, "z1"), check_number(z2, "z2")
        _check_within(z1, "z1", low, high, "z_range")
        _check_within(z2, "z2", low, high, "z_range")
        step = check_number(step, "step")
        if not 0 < step <= high - low:
            raise ValueError(f"step must be positive and at most high - low = {high - low:g}; "
                             f"got {step:g}.")
        if labels is not None and codes is None:
            raise ValueError("labels colour the codes: pass codes as well, or neither.")
        if codes is not None:
            codes = check_matrix(codes, "codes", columns=2)
            if labels is not None:
                labels = check_labels(labels, "labels", length=codes.shape[0])
        self._draw_map(codes, labels, low, high)

        # continuous_update=False: redraw when a drag ends. With True the browser echoes back
        # every value the kernel sets, rounded (2.0 as 2.000000000000001), and after Run All
        # those queued echoes overwrite the value the notebook's last cell set.
        self.z1, self.z2 = (ipywidgets.FloatSlider(
            value=value, min=low, max=high, step=step, description=name,
            continuous_update=False, readout_format=".2f",
            layout=ipywidgets.Layout(width="420px")) for value, name in ((z1, "z₁"), (z2, "z₂")))
        self._assemble([self.z1, self.z2], min_height="260px")  # update checks what decode returns

    def _decode_one(self, z1: float, z2: float) -> np.ndarray:
        """The decoded (28, 28) image of one code, checked."""
        images = as_array(self._decode(np.array([[z1, z2]], dtype=np.float32)), "decode(z)")
        if images.ndim < 2 or images.shape[0] != 1:
            raise ValueError(
                "decode must map codes (N, 2) to images (N, 784) or (N, 28, 28); for one code "
                f"of shape (1, 2) it returned shape {images.shape}.")
        try:
            return check_images(images, "decode(z)")[0]
        except (TypeError, ValueError) as exc:
            logits = isinstance(exc, ValueError) and "[0, 1]" in str(exc)
            hint = (" A decoder that outputs logits needs a sigmoid: decode = lambda z: "
                    "keras.ops.sigmoid(decoder(z)).") if logits else ""
            raise type(exc)(f"decode must return pixel intensities in [0, 1] of shape (N, 784) "
                            f"or (N, 28, 28): {exc}{hint}") from exc

    @property
    def image(self) -> np.ndarray:
        """The decoded image of the sliders' code, (28, 28), read-only."""
        return self._image

    @property
    def code(self) -> np.ndarray:
        """The sliders' code (z1, z2), shape (2,) (read-only property)."""
        return np.array([float(self.z1.value), float(self.z2.value)])

    def update(self) -> None:
        """Decode the sliders' code and redraw the picture."""
        z1, z2 = float(self.z1.value), float(self.z2.value)
        self._image = self._decode_one(z1, z2).copy()
        self._image.flags.writeable = False  # it cannot change behind the sliders
        # Only the image, the marker and the title change: the map is drawn once.
        self._shown.set_data(self._image)
        self._marker.set_data([z1], [z2])
        self._shown.axes.set_title(f"decoded z = ({z1:.2f}, {z2:.2f})")
        self._show(f"<decoded image of z = ({z1:.2f}, {z2:.2f})>")

    def _draw_map(self, codes, labels, low: float, high: float) -> None:
        """``figure``: an empty image (``update`` fills it) beside the code map (drawn once)."""
        fig = Figure(figsize=(7.2, 3.4), dpi=80)
        ax_image, ax_map = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
        self._shown = ax_image.imshow(np.zeros((28, 28), np.float32), cmap="gray", vmin=0.0,
                                      vmax=1.0, interpolation="nearest")
        ax_image.set(title="decoded z = (-0.00, -0.00)",  # room for the longest title
                     xlabel="pixel column", ylabel="pixel row", xticks=[], yticks=[])
        ax_image.grid(False)

        if codes is not None:
            if labels is None:
                ax_map.scatter(codes[:, 0], codes[:, 1], s=3, color="0.6", alpha=0.5,
                               label="codes")
            else:
                colours = ax_map.scatter(codes[:, 0], codes[:, 1], s=3, c=labels, cmap="tab10",
                                         vmin=-0.5, vmax=9.5, alpha=0.5)
                fig.colorbar(colours, ax=ax_map, ticks=range(10), label="digit")
        (self._marker,) = ax_map.plot([0.0], [0.0], marker="X", markersize=13, color="red",
                                      markeredgecolor="black", linestyle="none", label="z")
        ax_map.set(xlim=(low, high), ylim=(low, high), aspect="equal",
                   title="where z lies in code space", xlabel="$z_1$", ylabel="$z_2$")
        ax_map.grid(alpha=0.3)
        fig.tight_layout()
        self.figure = fig

