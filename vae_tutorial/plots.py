"""Plot helpers: image grids, side-by-side comparisons, 2-D scatters, training curves,
and the decoded manifold of a 2-D code space. Each checks its inputs before it makes a
figure, and returns the ``matplotlib.figure.Figure``. Introduced in notebook 01.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from .checks import as_array, check_images, check_int, check_labels, check_matrix

CELL_INCHES = 0.9  # side of one image cell in a grid
MANIFOLD_TILE_INCHES = 0.6  # side of one tile of manifold_grid's mosaic


def _figure(ax, inches: tuple[float, float]):
    """(figure, axes): ``ax`` and its figure, or a new figure of ``inches`` when ax is None."""
    return plt.subplots(figsize=inches) if ax is None else (ax.figure, ax)


def image_grid(images, *, ncols: int | None = None, titles: Sequence[str] | None = None,
               title: str | None = None):
    """Show ``images`` (floats in [0, 1], (N, 28, 28) or (N, 784)) in a grid; return the Figure.

    ``ncols`` images per row (default ``ceil(sqrt(N))``: a square grid); ``titles``: optional
    N short captions (for example the digit labels); ``title``: the figure's title.
    Introduced in notebook 01.
    """
    images = check_images(images, "images")
    n = images.shape[0]
    ncols = math.ceil(math.sqrt(n)) if ncols is None else check_int(ncols, "ncols")
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles has {len(titles)} entries for {n} images; pass one per image.")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    caption = 0.25 if titles is not None else 0.0
    fig, axes = plt.subplots(
        nrows, ncols, squeeze=False,
        figsize=(ncols * CELL_INCHES, nrows * (CELL_INCHES + caption) + (0.5 if title else 0)),
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_aspect("equal")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def compare_images(rows: Mapping[str, object], *, title: str | None = None):
    """Show aligned rows of images, one row per named set (e.g. originals, reconstructions).

    ``rows``: an ordered mapping ``{row label: images}``, each N images, floats in [0, 1] of
    shape (N, 28, 28) or (N, 784). Column j of each row shows item j, so an original sits
    above its reconstruction. Returns the Figure. Introduced in notebook 01.
    """
    if not isinstance(rows, Mapping) or not rows:
        raise TypeError("rows must be a non-empty dict {row label: images}.")
    checked = {label: check_images(imgs, f"rows[{label!r}]") for label, imgs in rows.items()}
    counts = {label: imgs.shape[0] for label, imgs in checked.items()}
    if len(set(counts.values())) != 1:
        raise ValueError(f"every row must hold the same number of images; got {counts}.")
    n = next(iter(counts.values()))
    fig, axes = plt.subplots(
        len(checked), n, squeeze=False,
        figsize=(n * CELL_INCHES + 1.4, len(checked) * CELL_INCHES + (0.5 if title else 0)),
    )
    for r, (label, imgs) in enumerate(checked.items()):
        for j in range(n):
            ax = axes[r, j]
            ax.imshow(imgs[j], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set(xticks=[], yticks=[])
            ax.grid(False)
            ax.spines[:].set_visible(False)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def scatter_2d(points, labels, *, title: str, xlabel: str = "$z_1$", ylabel: str = "$z_2$",
               ax=None, max_points: int | None = None, seed: int = 0):
    """Scatter 2-D ``points`` (finite, shape (N, 2); codes, say) coloured by ``labels``.

    ``labels``: integers, shape (N,), one colour per distinct label (tab10 for digits 0-9).
    ``title``, ``xlabel``, ``ylabel``: axis texts. ``ax``: axes to draw on (None: a new
    figure). ``max_points``: draw at most this many points, picked at random with ``seed``.
    Returns the Figure. Introduced in notebook 01.
    """
    points = check_matrix(points, "points", columns=2)
    labels = check_labels(labels, "labels", length=points.shape[0])
    if max_points is not None and points.shape[0] > check_int(max_points, "max_points"):
        keep = np.random.default_rng(seed).choice(points.shape[0], max_points, replace=False)
        points, labels = points[keep], labels[keep]
    fig, ax = _figure(ax, (6.0, 5.0))
    classes = np.unique(labels)
    cmap = plt.get_cmap("tab10" if classes.size <= 10 else "tab20")
    for k, cls in enumerate(classes):
        mask = labels == cls
        ax.scatter(points[mask, 0], points[mask, 1], s=6, alpha=0.7, color=cmap(k % cmap.N),
                   label=str(cls))
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(title="digit", markerscale=3, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def training_curves(history, *, keys: Sequence[str] | None = None, title: str = "Training",
                    ylabel: str = "loss (nats per image)", ax=None):
    """Plot per-epoch training curves, each with its held-out ``val_`` twin when present.

    ``history``: what ``model.fit`` returns, or a dict {metric name: per-epoch values}.
    ``keys``: metric names to draw (default: every name without the ``val_`` prefix; one
    name may be a plain string). ``title``, ``ylabel``: axis texts (say the unit). ``ax``:
    axes to draw on (None: a new figure). Returns the Figure; raises if a curve is empty or
    holds NaN/inf (training diverged). Introduced in notebook 01.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping) or not logs:
        raise TypeError("history must be what model.fit returns, or a non-empty dict "
                        "{metric name: per-epoch values}.")
    if keys is None:
        keys = [k for k in logs if not k.startswith("val_")]
    elif isinstance(keys, str):
        keys = [keys]  # one metric name, not its letters
    curves = []  # every curve is checked before a figure is made, so errors leave none behind
    for key in keys:
        if key not in logs:
            raise KeyError(f"history has no metric {key!r}; it has {sorted(logs)}.")
        for name, style, label in ((key, "-", key), (f"val_{key}", "--", f"{key} (held-out)")):
            if name not in logs:
                continue
            values = as_array(logs[name], f"history[{name!r}]").astype(np.float64)
            if values.ndim != 1 or values.size == 0:
                raise ValueError(f"history[{name!r}] must be a non-empty list of per-epoch values.")
            if not np.all(np.isfinite(values)):
                epoch = int(np.argmax(~np.isfinite(values))) + 1
                raise ValueError(
                    f"history[{name!r}] is NaN or infinite from epoch {epoch}: training "
                    "diverged. Lower the learning rate or check the inputs are in [0, 1]."
                )
            curves.append((values, style, label))
    fig, ax = _figure(ax, (6.0, 4.0))
    for values, style, label in curves:
        ax.plot(np.arange(1, values.size + 1), values, style, marker=".", label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.set(title=title, xlabel="epoch", ylabel=ylabel)
    ax.legend()
    fig.tight_layout()
    return fig


def manifold_grid(decode, n: int | None = None, *, values=None, probabilities=(0.05, 0.95),
                  title: str = "Decoded manifold", xlabel: str = "$z_1$",
                  ylabel: str = "$z_2$", ax=None):
    """Decode an n x n grid of 2-D codes and show the images as one square mosaic.

    ``decode`` maps codes (M, 2) to images in [0, 1], (M, 784) or (M, 28, 28) (a VAE's
    ``decode``, say); it is called once, on all ``n * n`` codes. ``n``: codes per axis
    (>= 2); default 20, or ``len(values)``. ``values``: the increasing code values along
    each axis; default: the standard normal's quantiles at ``n`` evenly spaced
    ``probabilities`` (0 < low < high < 1), so each row and column of tiles stands for the
    same share of the prior N(0, I). Tile (row r, column c) shows ``decode([values[c],
    values[n - 1 - r]])``: z_1 grows to the right and z_2 upwards, as in a scatter plot;
    tick labels give the code values. ``title``, ``xlabel``, ``ylabel``: axis texts; ``ax``:
    axes to draw on (None: a new figure). Returns the Figure. Introduced in notebook 06.
    """
    if not callable(decode):
        raise TypeError(f"decode must be a function from codes (M, 2) to images; got "
                        f"{type(decode).__name__}. Pass a model's decode method, e.g. vae.decode.")
    if values is None:
        n = 20 if n is None else check_int(n, "n", minimum=2)
        try:
            low, high = (float(p) for p in probabilities)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"probabilities must be a pair (low, high); got "
                             f"{probabilities!r}.") from exc
        if not 0.0 < low < high < 1.0:
            raise ValueError(f"probabilities must satisfy 0 < low < high < 1; got "
                             f"{probabilities!r}.")
        # Phi^{-1} from the standard library (no SciPy needed)
        values = np.array([NormalDist().inv_cdf(float(p)) for p in np.linspace(low, high, n)])
    else:
        values = as_array(values, "values")
        if values.ndim != 1 or values.size < 2:
            raise ValueError(f"values must be a 1-D array of at least 2 code values; got shape "
                             f"{values.shape}.")
        values = check_matrix(values[:, None], "values")[:, 0]
        if not np.all(np.diff(values) > 0):
            raise ValueError("values must be strictly increasing (z grows to the right and up).")
        if n is not None and check_int(n, "n", minimum=2) != values.size:
            raise ValueError(f"n is {n} but values has {values.size} entries; pass one of them.")
        n = values.size

    z1, z2 = np.meshgrid(values, values[::-1])  # row 0 is the top: the largest z_2
    codes = np.stack([z1.ravel(), z2.ravel()], axis=1).astype(np.float32)
    decoded = as_array(decode(codes), "decode(codes)")
    if decoded.ndim >= 1 and decoded.shape[0] != codes.shape[0]:
        raise ValueError(f"decode returned {decoded.shape[0]} images for {codes.shape[0]} codes; "
                         "it must return one image per code.")
    tiles = check_images(decoded, "decode(codes)")
    side = tiles.shape[1]
    mosaic = tiles.reshape(n, n, side, side).transpose(0, 2, 1, 3).reshape(n * side, n * side)

    # About MANIFOLD_TILE_INCHES per tile (48 pixels at 80 dpi), plus room for the axis texts:
    # digits a room can read on a projector (15 x 15 tiles: 10.2 inches).
    inches = max(3.0, MANIFOLD_TILE_INCHES * n + 1.2)
    fig, ax = _figure(ax, (inches, inches))
    ax.imshow(mosaic, cmap="gray", vmin=0.0, vmax=1.0)
    ax.grid(False)
    shown = np.unique(np.round(np.linspace(0, n - 1, min(n, 5))).astype(int))
    centres = (shown + 0.5) * side - 0.5
    texts = [f"{round(float(v), 2) + 0.0:.2f}" for v in values]  # + 0.0: never -0.00
    ax.set_xticks(centres, [texts[i] for i in shown])
    ax.set_yticks(centres, [texts[n - 1 - i] for i in shown])
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    fig.tight_layout()
    return fig
