"""Self-checks for notebook 08's code exercises (convolutional and conditional VAEs). They run
on the learner's functions or numbers alone (no model, no training)."""

from __future__ import annotations

import numpy as np

from . import Mismatch, exercise, expect_close


def _expect_count(what, value, right, mistakes: dict, layer: str) -> None:
    """Raise :class:`Mismatch` unless ``value`` is the whole number ``right`` (never printed);
    ``mistakes`` maps what a typical wrong count explains to that count."""
    number = np.asarray(value)
    if number.shape != () or not np.isfinite(number) or number != np.round(number):
        raise Mismatch(f"{what} should be one whole number; got {value!r}.")
    if number == right:
        return
    for why, wrong in mistakes.items():
        if number == wrong:
            raise Mismatch(f"{what} = {int(number)} {why}.")
    raise Mismatch(f"{what} = {int(number)} is not the number of weights of {layer}, biases "
                   "included.")


@exercise("each filter has a kernel_size x kernel_size kernel for every input channel, plus a "
          "bias; a Dense layer has one weight per (input, unit) pair, plus a bias per unit.")
def exercise_1(conv_weights, dense_weights):
    for k, channels, filters in [(3, 1, 16), (3, 16, 32), (5, 3, 8), (1, 4, 2)]:
        _expect_count(f"conv_weights({k}, {channels}, {filters})",
                      conv_weights(k, channels, filters), (k * k * channels + 1) * filters, {
                          "leaves out the biases: each filter has one": k * k * channels * filters,
                          f"counts a {k} x {k} kernel per filter, but each filter's kernel spans "
                          f"all {channels} input channels": (k * k + 1) * filters},
                      f"{filters} filters of {k} x {k} on {channels} input channel(s)")
    for inputs, units in [(784, 400), (20, 784), (1, 1)]:
        _expect_count(f"dense_weights({inputs}, {units})", dense_weights(inputs, units),
                      (inputs + 1) * units, {"leaves out the biases: each unit has one":
                                             inputs * units},
                      f"a Dense layer from {inputs} inputs to {units} units")
    return "Both count kernels (or weight matrices) and biases."


def _codes(value, name):
    codes = np.asarray(value, dtype=np.float64)
    if codes.ndim != 2 or codes.shape[0] == 0 or not np.all(np.isfinite(codes)):
        raise Mismatch(f"{name} should be finite codes of shape (N, K), one row per image; got "
                       f"shape {codes.shape}.")
    return codes


def _labels(value, name, length):
    labels = np.asarray(value)
    if labels.shape != (length,):
        raise Mismatch(f"{name} should hold one digit per code, shape ({length},); got shape "
                       f"{labels.shape}.")
    return labels.astype(np.int64)


@exercise("pass check(train_codes, y_train, test_codes, y_test, accuracy) with the mean codes "
          "from cvae.encode(images, labels)[0]; a centroid is the mean of one digit's training "
          "codes, and each held-out code gets the digit of the centroid nearest to it "
          "(Euclidean distance).")
def exercise_2(train_codes, train_labels, test_codes, test_labels, accuracy):
    train_codes = _codes(train_codes, "train_codes")
    test_codes = _codes(test_codes, "test_codes")
    if train_codes.shape[1] != test_codes.shape[1]:
        raise Mismatch(f"train_codes and test_codes should have the same number of columns; got "
                       f"{train_codes.shape[1]} and {test_codes.shape[1]}.")
    train_labels = _labels(train_labels, "train_labels", train_codes.shape[0])
    test_labels = _labels(test_labels, "test_labels", test_codes.shape[0])
    accuracy = float(np.asarray(accuracy))
    if not 0 <= accuracy <= 1:
        raise Mismatch(f"the accuracy should be a share between 0 and 1; got {accuracy:g} "
                       "(a percentage? divide by 100).")
    digits = np.unique(train_labels)
    centroids = np.stack([train_codes[train_labels == k].mean(axis=0) for k in digits])
    distances = np.linalg.norm(test_codes[:, None, :] - centroids[None], axis=2)
    expected = float(np.mean(digits[distances.argmin(axis=1)] == test_labels))
    expect_close("the nearest-centroid accuracy for these codes", accuracy, expected, atol=1e-9)
    return f"Chance would be {1 / len(digits):.0%}."


@exercise("collect a (N, 10) array of negative ELBOs, one column per label, and take "
          "argmin(axis=1).")
def exercise_3(predicted, labels):
    labels = np.asarray(labels)
    predicted = np.asarray(predicted)
    if predicted.shape != labels.shape:
        raise Mismatch(f"predicted should hold one digit per held-out image, shape "
                       f"{labels.shape}; got shape {predicted.shape}.")
    if not np.issubdtype(predicted.dtype, np.integer) or predicted.min() < 0 or predicted.max() > 9:
        raise Mismatch("predicted should hold digits 0-9 (the argmin over the ten labels' "
                       "negative ELBOs), as integers.")
    accuracy = float(np.mean(predicted == labels))
    if accuracy < 0.5:
        raise Mismatch(f"only {accuracy:.0%} of the predictions are right, not far above chance "
                       "(10%): the best label is the one with the LOWEST negative ELBO.")
    return f"{accuracy:.1%} right, without ever training on the classification."
