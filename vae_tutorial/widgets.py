"""Interactive explorers built from ipywidgets and matplotlib (notebooks 03 and 06).

``KLExplorer`` puts two sliders, for the mean ``mu`` and the standard deviation ``sigma``
of q = N(mu, sigma^2), next to a plot of q against a fixed Gaussian p and a label with
both KL divergences, KL(q || p) and KL(p || q), in nats. Moving a slider redraws the plot
and the label at once (the callback is wired with ``slider.observe``), live in
JupyterLab. The explorer can also be driven from Python, which is how the notebook's
check cell and ``tests/test_widgets.py`` test it without a browser.

``LatentExplorer`` (notebook 06) does the same for a 2-D code space: two sliders pick a
code z = (z1, z2), and the decoder's image of it is drawn live, next to a map of the
code space marking where z lies.

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

from .checks import as_array, check_images, check_labels, check_matrix, check_number, check_range
from .probability import kl_univariate_gaussians

_LOG_NORMALIZER = 0.5 * math.log(2.0 * math.pi)


def _normal_density(x: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2 - math.log(sigma) - _LOG_NORMALIZER)


def _check_within(value: float, name: str, low: float, high: float, range_name: str) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must lie in {range_name} ({low:g}, {high:g}); got {value:g}.")


class _Explorer:
    """What both explorers share: sliders that redraw, a PNG output, display as the widget."""

    def _watch(self, *sliders) -> None:
        for slider in sliders:
            slider.observe(lambda change: self.update(), names="value")

    def _show(self, text: str) -> None:
        """Store ``self.figure`` as the Output widget's one PNG output (module docstring)."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        self.output.outputs = ({
            "output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                     "text/plain": text}},)

    def _ipython_display_(self):
        """Show the widget when the explorer itself is a cell's last expression (through
        IPython's display, which both ipywidgets 8 and Colab's ipywidgets 7 support)."""
        from IPython.display import display

        display(self.widget)


class KLExplorer(_Explorer):
    """Sliders for q = N(mu, sigma^2), drawn against p = N(mu_p, sigma_p^2), with both KLs.

    ``mu_p``, ``sigma_p``: the fixed p (``sigma_p`` a standard deviation, > 0); default the
    standard normal, a VAE's prior. ``mu``, ``sigma``: the sliders' starting values, inside
    ``mu_range`` = (low, high) and ``sigma_range`` = (low, high), 0 < low < high.

    The sliders are ``ipywidgets.SelectionSlider``s over fixed grids (``mu_values``: the
    multiples of 0.05; ``sigma_values``: every number with two significant digits, so small
    sigmas get room; both also hold the range's ends and the starting value). The browser
    sends back a position, never a float of its own, so the value set from Python (0.5) is
    the value shown and the KL is computed from (a float slider would echo 0.501 back).
    Setting ``mu.value`` or ``sigma.value`` to a grid value redraws, like moving them;
    another value raises ipywidgets' ``TraitError``.

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

        self.mu_values = self._mean_grid(mu_low, mu_high, mu)
        self.sigma_values = self._std_grid(sigma_low, sigma_high, sigma)
        self.mu = self._grid_slider(self.mu_values, mu, "μ (mean of q)")
        self.sigma = self._grid_slider(self.sigma_values, sigma, "σ (std of q)")
        self.kl_label = ipywidgets.HTML()
        self.output = ipywidgets.Output(layout=ipywidgets.Layout(min_height="300px"))
        self.widget = ipywidgets.VBox([self.mu, self.sigma, self.kl_label, self.output])
        self.figure = None

        self._watch(self.mu, self.sigma)
        self.update()

    # ------------------------------------------------------------------ sliders

    MU_STEP = 0.05

    @classmethod
    def _mean_grid(cls, low: float, high: float, start: float) -> tuple[float, ...]:
        """The multiples of MU_STEP in [low, high], as exact decimals, plus the ends and start."""
        first, last = math.ceil(low / cls.MU_STEP - 1e-9), math.floor(high / cls.MU_STEP + 1e-9)
        # float("35e-2") is the float nearest to 0.35, the same number as the literal 0.35
        values = {float(f"{k * 5}e-2") for k in range(first, last + 1)}
        return tuple(sorted(v for v in values | {low, high, start} if low <= v <= high))

    @staticmethod
    def _std_grid(low: float, high: float, start: float) -> tuple[float, ...]:
        """Every number with two significant digits in [low, high], plus the ends and start."""
        values = {low, high, start}
        for exponent in range(math.floor(math.log10(low)) - 1, math.floor(math.log10(high)) + 1):
            values.update(float(f"{mantissa}e{exponent}") for mantissa in range(10, 100))
        return tuple(sorted(v for v in values if low <= v <= high))

    @staticmethod
    def _grid_slider(values, value: float, description: str) -> ipywidgets.SelectionSlider:
        def label(v: float) -> str:
            return f"{v:.2f}" if float(f"{v:.2f}") == v else f"{v:.4g}"

        return ipywidgets.SelectionSlider(
            options=[(label(v), v) for v in values], value=value, description=description,
            continuous_update=True, style={"description_width": "initial"},
            layout=ipywidgets.Layout(width="420px"))

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

    def update(self) -> None:
        """Redraw the plot and the KL label for the sliders' current values."""
        mu, sigma = float(self.mu.value), float(self.sigma.value)
        kl_qp, kl_pq = self.kl, self.kl_forward
        self.kl_label.value = (
            f"<b>KL(q ‖ p) = {kl_qp:.4f} nats</b> &nbsp;·&nbsp; KL(p ‖ q) = {kl_pq:.4f} nats"
            f" &nbsp;(q = N({mu:.2f}, {sigma:.3f}²), p = N({self.mu_p:g}, {self.sigma_p:g}²))"
        )
        self.figure = self._draw(mu, sigma, kl_qp, kl_pq)
        self._show(f"<q = N({mu:.2f}, {sigma:.3f}^2) against p>")

    def _draw(self, mu: float, sigma: float, kl_qp: float, kl_pq: float) -> Figure:
        fig = Figure(figsize=(7.6, 3.4), dpi=80)
        ax = fig.add_subplot()
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
        fig.tight_layout()
        return fig


class LatentExplorer(_Explorer):
    """Two sliders pick a code z = (z1, z2); the decoder's image of z is drawn live.

    ``decode``: a function from codes (N, 2) to images in [0, 1], (N, 784) or (N, 28, 28)
    (``vae.decode``, or ``lambda z: sigmoid(decoder(z))`` for a plain autoencoder), or a
    model with such a ``decode`` method and ``latent_dim == 2``. It is called on one code
    at a time and what it returns is checked every time: a wrong shape or a value outside
    [0, 1] (logits, say) raises a ValueError saying what came back. ``z1``, ``z2``: the
    starting code, inside ``z_range`` = (low, high) (default (-3, 3), three standard
    deviations of the prior). ``step``: the slider step, > 0. ``codes`` (M, 2) and their
    digit ``labels`` (M,): optional background of the code map, coloured by label.

    Attributes: ``widget`` (the ``VBox`` to display), ``z1``, ``z2`` (the ``FloatSlider``s;
    setting ``.value`` redraws), ``output`` (the ``Output`` holding the decoded image and
    the map with a cross at z, one PNG), ``figure`` (its matplotlib ``Figure``; the map is
    drawn once), ``image`` (the decoded (28, 28) image, read-only), ``code`` ((2,)).
    Introduced in notebook 06.
    """

    def __init__(self, decode, *, z1: float = 0.0, z2: float = 0.0, z_range=(-3.0, 3.0),
                 step: float = 0.05, codes=None, labels=None):
        self._decode = self._decode_function(decode)
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
        self._codes, self._labels = codes, labels
        self._limits = (low, high)
        self._image = None
        self.figure = None

        def slider(value, name):
            # continuous_update=False: redraw when a drag ends. With True the browser also
            # echoes back every value the kernel sets, rounded by its own step arithmetic
            # (2.0 comes back as 2.000000000000001), and after Run All those queued echoes
            # overwrite the value the notebook's last cell set.
            return ipywidgets.FloatSlider(
                value=value, min=low, max=high, step=step, description=name,
                continuous_update=False, readout_format=".2f",
                layout=ipywidgets.Layout(width="420px"))

        self.z1 = slider(z1, "z₁")
        self.z2 = slider(z2, "z₂")
        self.output = ipywidgets.Output(layout=ipywidgets.Layout(min_height="260px"))
        self.widget = ipywidgets.VBox([self.z1, self.z2, self.output])

        self.update()  # the first call checks what decode returns
        self._watch(self.z1, self.z2)

    # ------------------------------------------------------------------ decoding

    @staticmethod
    def _decode_function(decode):
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

    def _decode_one(self, z1: float, z2: float) -> np.ndarray:
        """The decoded (28, 28) image of one code, checked."""
        images = as_array(self._decode(np.array([[z1, z2]], dtype=np.float32)), "decode(z)")
        if images.ndim < 2 or images.shape[0] != 1:
            raise ValueError(
                "decode must map codes (N, 2) to images (N, 784) or (N, 28, 28); for one code "
                f"of shape (1, 2) it returned shape {images.shape}.")
        try:
            checked = check_images(images, "decode(z)")
        except (TypeError, ValueError) as exc:
            hint = ""
            if isinstance(exc, ValueError) and "[0, 1]" in str(exc):
                hint = (" A decoder that outputs logits needs a sigmoid: decode = lambda z: "
                        "keras.ops.sigmoid(decoder(z)).")
            raise type(exc)(f"decode must return pixel intensities in [0, 1] of shape (N, 784) "
                            f"or (N, 28, 28): {exc}{hint}") from exc
        return checked[0]

    # ------------------------------------------------------------------ values

    @property
    def image(self) -> np.ndarray:
        """The decoded image of the sliders' code, (28, 28), read-only."""
        image = self._image.copy()
        image.flags.writeable = False
        return image

    @property
    def code(self) -> np.ndarray:
        """The sliders' code (z1, z2), shape (2,) (read-only property)."""
        return np.array([float(self.z1.value), float(self.z2.value)])

    # ------------------------------------------------------------------ drawing

    def update(self) -> None:
        """Decode the sliders' code and redraw the picture."""
        z1, z2 = float(self.z1.value), float(self.z2.value)
        self._image = self._decode_one(z1, z2).copy()
        if self.figure is None:
            self._draw_background()
        # Only the image, the marker and the title change: the map is drawn once.
        self._shown.set_data(self._image)
        self._marker.set_data([z1], [z2])
        self._shown.axes.set_title(f"decoded z = ({z1:.2f}, {z2:.2f})")
        self._show(f"<decoded image of z = ({z1:.2f}, {z2:.2f})>")

    def _draw_background(self) -> None:
        fig = Figure(figsize=(7.2, 3.4), dpi=80)
        ax_image, ax_map = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
        self._shown = ax_image.imshow(self._image, cmap="gray", vmin=0.0, vmax=1.0,
                                      interpolation="nearest")
        ax_image.set(title="decoded z = (-0.00, -0.00)",  # room for the longest title
                     xlabel="pixel column", ylabel="pixel row", xticks=[], yticks=[])
        ax_image.grid(False)

        low, high = self._limits
        if self._codes is not None:
            if self._labels is None:
                ax_map.scatter(self._codes[:, 0], self._codes[:, 1], s=3, color="0.6",
                               alpha=0.5, label="codes")
            else:
                colours = ax_map.scatter(self._codes[:, 0], self._codes[:, 1], s=3,
                                         c=self._labels, cmap="tab10", vmin=-0.5, vmax=9.5,
                                         alpha=0.5)
                fig.colorbar(colours, ax=ax_map, ticks=range(10), label="digit")
        (self._marker,) = ax_map.plot([0.0], [0.0], marker="X", markersize=13, color="red",
                                      markeredgecolor="black", linestyle="none", label="z")
        ax_map.set(xlim=(low, high), ylim=(low, high), aspect="equal",
                   title="where z lies in code space", xlabel="$z_1$", ylabel="$z_2$")
        ax_map.grid(alpha=0.3)
        fig.tight_layout()
        self.figure = fig

