"""A full-size stand-in for MNIST, built from the offline subset, for the notebook benchmark.

Notebooks take their full-data code paths (more images per epoch, ``data.source ==
"keras"`` capping the training) only with the full MNIST, which needs the network. To time
those paths offline, ``benchmarks/notebooks.py --mode full-size`` starts each kernel with
an IPython start-up script that calls :func:`install`: from then on
``vae_tutorial.load_mnist`` loads the offline subset as usual and returns
:func:`full_size` of it, reported as ``source="keras"``. Nothing in the package changes.

The stand-in has the full MNIST's shapes, dtype and value range: 60,000 training images
tiled from the subset's 4,000 (15 copies) and 10,000 test images from its 1,000 (10
copies), each copy but the first shifted by one or two pixels, a different shift for each
copy (MNIST digits sit in a blank margin: the shifts cut off under 0.1% of the ink), and
shuffled with a fixed seed.
Train and test images come from the subset's own train and test splits, so no test image
leaks into training. Class balance is the subset's (400 / 100 per digit become 6,000 /
1,000).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

FULL_TRAIN, FULL_TEST = 60_000, 10_000
SIDE = 28
# The (rows, columns) shift of copy c is SHIFTS[c]: 25 distinct shifts of at most 2 pixels
# each way, smallest first, so copy 0 is the original and no two copies are equal.
SHIFTS = sorted(
    ((rows, columns) for rows in range(-2, 3) for columns in range(-2, 3)),
    key=lambda shift: (abs(shift[0]) + abs(shift[1]), shift),
)
SEED = 0

# What load_mnist returned in this process: one (source, n_train, n_test) per call. The
# benchmark reads it from inside the kernel to prove the hook ran.
LOADED: list[tuple[str, int, int]] = []


def _window(shift: int, length: int) -> slice:
    return slice(max(shift, 0), length + min(shift, 0))


def shifted(images: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """``images`` (N, 28, 28) moved by ``rows`` down and ``columns`` right, zero-filled."""
    out = np.zeros_like(images)
    height, width = images.shape[1:]
    out[:, _window(rows, height), _window(columns, width)] = images[
        :, _window(-rows, height), _window(-columns, width)
    ]
    return out


def tile(
    images: np.ndarray, labels: np.ndarray, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``size`` images and labels from shifted copies of ``images``, in a random order.

    ``images`` is (n, 28, 28) or (n, 784); the result has the same trailing shape and dtype.
    Copies are written straight to their shuffled places, so the only large array made is
    the result.
    """
    n = len(images)
    square = images.reshape(n, SIDE, SIDE)
    out = np.empty((size, SIDE, SIDE), dtype=images.dtype)
    out_labels = np.empty(size, dtype=labels.dtype)
    if size > n * len(SHIFTS):
        raise ValueError(f"{size} images need more than {len(SHIFTS)} shifted copies of {n}")
    places = rng.permutation(size)
    for copy, start in enumerate(range(0, size, n)):
        count = min(n, size - start)
        rows, columns = SHIFTS[copy]
        out[places[start : start + count]] = shifted(square[:count], rows, columns)
        out_labels[places[start : start + count]] = labels[:count]
    return out.reshape(size, *images.shape[1:]), out_labels


def full_size(data, seed: int = SEED):
    """A copy of the offline ``MnistData`` grown to the full MNIST's 60,000 / 10,000 images.

    Same dtype (float32), value range ([0, 1]), image shape ((28, 28) or (784,)) and label
    dtype as ``data``; ``source`` is ``"keras"``, as the full data would report.
    """
    rng = np.random.default_rng(seed)
    x_train, y_train = tile(data.x_train, data.y_train, FULL_TRAIN, rng)
    x_test, y_test = tile(data.x_test, data.y_test, FULL_TEST, rng)
    return dataclasses.replace(
        data,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        source="keras",
        description=(
            f"Full-size stand-in for MNIST (benchmark only): {FULL_TRAIN:,} train / "
            f"{FULL_TEST:,} test images tiled from the offline subset's {len(data.y_train):,} "
            f"/ {len(data.y_test):,}"
        ),
    )


def install(full: bool) -> None:
    """Wrap ``vae_tutorial.load_mnist`` to record what it returns; if ``full``, grow it.

    Called by the kernel's start-up script, before the notebook's first cell; the kernel
    runs with ``VAE_TUTORIAL_OFFLINE=1``, so the wrapped loader returns the offline subset.
    """
    import vae_tutorial
    import vae_tutorial.data as data_module

    original = data_module.load_mnist

    @functools.wraps(original)
    def load_mnist(*args, **kwargs):
        data = original(*args, **kwargs)
        if full:
            if data.source != "offline":
                raise RuntimeError(f"full-size stand-in: expected the offline subset, got {data!r}")
            data = full_size(data)
        LOADED.append((data.source, len(data.y_train), len(data.y_test)))
        return data

    data_module.load_mnist = load_mnist
    vae_tutorial.__dict__.pop("load_mnist", None)  # the lazy export now resolves to the wrapper
