"""Input checks shared by the data, plot and model helpers.

Each check raises a ``ValueError`` or ``TypeError`` whose message names the argument,
says what was wrong, and says how to fix it, so that a learner never has to read a
TensorFlow traceback to find a bad array. Introduced in notebook 01.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

IMAGE_SIDE = 28
IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE
BINARIZATIONS = ("dynamic", "static")  # how a VAE turns grey pixels into binary ones


def as_array(value, name: str) -> np.ndarray:
    """Return ``value`` as a numpy array (numpy arrays, lists and TF tensors are accepted)."""
    if hasattr(value, "numpy") and callable(value.numpy):  # eager tf.Tensor / keras tensor
        value = value.numpy()
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be array-like; got {type(value).__name__} ({exc})") from exc
    if array.dtype == object:
        raise TypeError(f"{name} must be a numeric array; got an object array (ragged lists "
                        "or mixed types?). Pass a numpy array of numbers.")
    return array


def check_finite(array: np.ndarray, name: str) -> None:
    """Raise if ``array`` holds NaN or infinity, saying how many and where the first one is."""
    if np.issubdtype(array.dtype, np.inexact):  # floats and complex numbers
        bad = ~np.isfinite(array)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{name} contains {int(bad.sum())} non-finite value(s) (NaN or inf), "
                             f"the first at index {first}. Remove or replace them before "
                             "calling this.")


def check_images(images, name: str = "images") -> np.ndarray:
    """Validate a batch of MNIST-like images and return it as float32 of shape (N, 28, 28).

    Accepts shape (N, 28, 28) or flattened (N, 784). Values must be floats in [0, 1] (pixel
    intensities, not 0-255 bytes) with no NaN or infinity.
    """
    array = as_array(images, name)
    if not np.issubdtype(array.dtype, np.floating):  # bools included
        hint = " Divide 0-255 bytes by 255.0." if np.issubdtype(array.dtype, np.integer) else ""
        raise TypeError(f"{name} must hold floats in [0, 1]; got dtype {array.dtype}.{hint}")
    if array.ndim == 2 and array.shape[1] == IMAGE_PIXELS:
        array = array.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    if array.ndim != 3 or array.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise ValueError(f"{name} must have shape (N, 28, 28) or (N, 784); got {array.shape}. "
                         "Reshape with images.reshape(-1, 28, 28).")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); pass at least one image.")
    check_finite(array, name)
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(f"{name} must lie in [0, 1]; got values from {low:g} to {high:g}. Scale "
                         "0-255 pixels by 1/255, or clip a model's output with np.clip(x, 0, 1).")
    return array.astype(np.float32, copy=False)


BAD_BATCH = ("holds a batch with values outside [0, 1] or NaN: images must be floats in "
             "[0, 1]. Scale 0-255 pixels with dataset.map(lambda x: x / 255) and remove NaN.")


def check_image_batches(dataset, name: str = "images"):
    """Check a ``tf.data.Dataset`` of image batches: dtype and shape now, values as they stream.

    Batches (or the first part of tuple elements) must be floats of shape (B, 28, 28) or
    (B, 784). Returns the dataset of image batches, each passed on once its values are
    found in [0, 1] (one comparison per pixel, in-graph); a bad batch stops the iteration
    with a TensorFlow ``InvalidArgumentError`` whose message holds ``f"{name} {BAD_BATCH}"``.
    """
    import tensorflow as tf  # here, so that importing this module does not start TensorFlow

    spec = tf.nest.flatten(dataset.element_spec)[0]
    if not spec.dtype.is_floating:
        raise TypeError(f"{name} must hold floats in [0, 1]; its batches have dtype "
                        f"{spec.dtype.name}. Map them with lambda x: tf.cast(x, 'float32') / 255.")
    if tuple(spec.shape[1:]) not in ((IMAGE_PIXELS,), (IMAGE_SIDE, IMAGE_SIDE)):
        raise ValueError(f"{name} must yield batches of shape (B, 28, 28) or (B, 784); its "
                         f"batches have shape {tuple(spec.shape)}.")

    def checked(images):
        in_range = tf.reduce_all((images >= 0) & (images <= 1))  # False for NaN
        with tf.control_dependencies([tf.debugging.Assert(in_range, [f"{name} {BAD_BATCH}"])]):
            return tf.identity(images)

    return dataset.map(lambda *parts: checked(parts[0]))


def check_labels(labels, name: str = "labels", *, length: int | None = None,
                 classes: int | None = None) -> np.ndarray:
    """Validate integer class labels (shape (N,)) and return them as int64.

    ``length``, when given, is the number of items the labels must match; ``classes``, the
    number of classes, so that every label lies in 0 to classes - 1.
    """
    array = as_array(labels, name)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (N,); got shape {array.shape}.")
    if np.issubdtype(array.dtype, np.floating):
        check_finite(array, name)
        if not np.all(array == np.round(array)):
            raise TypeError(f"{name} must be whole numbers (class indices); got fractions.")
    elif not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must be integers (class indices); got dtype {array.dtype}.")
    if length is not None and array.shape[0] != length:
        raise ValueError(f"{name} has {array.shape[0]} entries but there are {length} points "
                         "to label; pass one label per point.")
    if classes is not None and array.size and (array.min() < 0 or array.max() >= classes):
        raise ValueError(f"{name} must be class indices 0-{classes - 1}; got values from "
                         f"{array.min():g} to {array.max():g}.")
    return array.astype(np.int64)


def check_matrix(values, name: str, *, columns: int | None = None) -> np.ndarray:
    """Validate a finite 2-D float array (N, D) and return it as float64.

    ``columns``, when given, is the required D (for example 2 for a 2-D scatter).
    """
    array = as_array(values, name)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name} must be numeric; got dtype {array.dtype}.")
    if array.ndim != 2 or (columns is not None and array.shape[1] != columns):
        want = f"(N, {columns})" if columns is not None else "(N, D)"
        raise ValueError(f"{name} must have shape {want}; got {array.shape}.")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); pass at least one row.")
    check_finite(array, name)
    return array.astype(np.float64, copy=False)


def check_int(value, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as a Python int, raising unless it is a whole number >= ``minimum``.

    numpy integers are accepted (a size read off an array); bools and floats are not.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = {0: "a non-negative int", 1: "a positive int"}.get(minimum, f"an int >= {minimum}")
        raise ValueError(f"{name} must be {kind}; got {value!r}.")
    return int(value)


def check_choice(value, name: str, options) -> str:
    """Raise unless ``value`` is one of ``options``; the message lists the valid ones."""
    if value not in options:
        valid = ", ".join(repr(o) for o in options)
        raise ValueError(f"unknown {name} {value!r}; choose one of {valid}.")
    return value


def check_number(value, name: str) -> float:
    """Return ``value`` as a finite Python float (numpy scalars accepted), else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number; got {value!r}.")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite; got {value!r}.")
    return number


def check_non_negative(value, name: str, meaning: str) -> float:
    """Return ``value`` as a finite float >= 0; ``meaning`` says what it is, for the message."""
    number = check_number(value, name)
    if number < 0:
        raise ValueError(f"{name} must be >= 0 ({meaning}); got {value!r}.")
    return number


def check_learning_rate(value, name: str = "learning_rate") -> float:
    """Return an optimizer's learning rate as a float in (0, 1), else a ValueError."""
    rate = check_number(value, name)
    if not 0 < rate < 1:
        raise ValueError(f"{name} must be a number in (0, 1); got {value!r}.")
    return rate


def check_range(value, name: str, *, positive: bool = False) -> tuple[float, float]:
    """Return ``value`` as a (low, high) pair of finite floats with low < high.

    With ``positive`` the low end must be > 0 (a range of standard deviations).
    """
    try:
        low, high = value
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a pair (low, high); got {value!r}.") from exc
    low, high = check_number(low, f"{name}[0]"), check_number(high, f"{name}[1]")
    if not low < high:
        raise ValueError(f"{name} must satisfy low < high; got ({low:g}, {high:g}).")
    if positive and low <= 0:
        raise ValueError(
            f"{name} must hold positive standard deviations; got a low end of {low:g}.")
    return low, high


def check_units(hidden_units, name: str = "hidden_units") -> tuple[int, ...]:
    """Return a sequence of layer widths as a tuple of positive ints (``()``: no hidden layer)."""
    if isinstance(hidden_units, (str, bytes)) or not isinstance(hidden_units, Sequence):
        example = (f"({hidden_units},)" if isinstance(hidden_units, numbers.Integral)
                   and not isinstance(hidden_units, bool) else "(256,)")
        raise ValueError(f"{name} must be a sequence of positive ints such as {example}, or () "
                         f"for none; got {hidden_units!r}.")
    return tuple(check_int(h, f"{name}[{i}]") for i, h in enumerate(hidden_units))


def check_activation(activation, name: str = "activation"):
    """Raise unless ``activation`` is a Keras activation (a name or a function) or None."""
    if activation is None:
        return None
    import keras  # here, so that importing this module does not start TensorFlow

    try:
        keras.activations.get(activation)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"unknown {name} {activation!r}; use a Keras name such as 'relu', "
                         "'tanh' or 'sigmoid', or None for a linear model.") from exc
    return activation
