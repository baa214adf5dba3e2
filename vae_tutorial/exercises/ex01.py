"""Self-checks for notebook 01's exercises (autoencoders). Each check recomputes its reference
from the learner's own model and data (no training), and never prints how."""

from __future__ import annotations

import numpy as np

from . import Exercise, Mismatch, expect_close

PIXEL_SUM = ("that is a mean over the 784 pixels; sum the pixels' cross-entropies (as "
             "reconstruction_bce does) to get nats per image")


def _per_image_loss(x, logits) -> np.ndarray:
    """Binary cross-entropy with logits, summed over pixels: nats per image, (N,)."""
    x, logits = np.asarray(x, np.float64), np.asarray(logits, np.float64)
    return np.sum(np.logaddexp(0.0, logits) - x * logits, axis=-1)


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    return values.mean(), values.std(ddof=1) / np.sqrt(len(values))


def _per_digit_table(per_digit) -> np.ndarray:
    """(10, 2) array of (mean, standard error) from a dict {digit: (mean, se)} or 10 pairs."""
    if isinstance(per_digit, dict):
        missing = [d for d in range(10) if d not in per_digit and np.int64(d) not in per_digit]
        if missing:
            raise Mismatch(f"per_digit has no entry for digit(s) {missing}; it needs one per "
                           "digit 0-9.")
        rows = [per_digit[d] for d in range(10)]
    else:
        rows = list(per_digit)
    try:
        table = np.asarray([np.asarray(row, np.float64).reshape(-1) for row in rows])
    except (TypeError, ValueError):
        table = np.empty(0)
    if table.shape != (10, 2):
        raise Mismatch("per_digit should give each digit 0-9 a pair (mean loss, standard "
                       "error), e.g. from mean_and_se.")
    return table


def _check_hardest_digit(per_digit, autoencoder, x_test, y_test):
    table = _per_digit_table(per_digit)
    labels = np.asarray(y_test)
    per_image = _per_image_loss(x_test, autoencoder.predict(x_test, verbose=0))
    for digit in range(10):
        values = per_image[labels == digit]
        mean, se = _mean_se(values)
        expect_close(f"the mean loss of digit {digit} (nats per image)", table[digit, 0], mean,
                     rtol=1e-3, mistakes={PIXEL_SUM: mean / 784})
        expect_close(f"the standard error of digit {digit}'s mean loss", table[digit, 1], se,
                     rtol=2e-2, mistakes={
                         "that is the standard deviation of the losses; the standard error of "
                         "their mean divides it by the square root of the number of images":
                         values.std(ddof=1),
                         PIXEL_SUM: se / 784})
    order = np.argsort(table[:, 0])
    return f"Digit {order[0]} is cheapest and digit {order[-1]} dearest; see which differences " \
           "are larger than a few standard errors."


exercise_1 = Exercise(
    "Exercise 1", _check_hardest_digit,
    "compute reconstruction_bce per image on the held-out set, then select the images of "
    "each digit with y_test == digit and take mean_and_se of their losses.")


def _check_shift(shifted, shifted_loss, autoencoder, x_test):
    x = np.asarray(x_test, np.float64)
    n = x.shape[0]
    got = np.asarray(shifted, np.float64)
    if got.size != x.size:
        raise Mismatch(f"shifted should hold the {n} held-out images, {x.size} numbers; got "
                       f"shape {got.shape}.")
    got, images = got.reshape(n, 28, 28), x.reshape(n, 28, 28)
    expected = np.zeros_like(images)
    expected[:, :, 6:] = images[:, :, :-6]
    left = np.zeros_like(images)
    left[:, :, :-6] = images[:, :, 6:]
    down = np.zeros_like(images)
    down[:, 6:, :] = images[:, :-6, :]
    expect_close("the shifted images", got, expected, atol=1e-6, mistakes={
        "np.roll wraps the rightmost columns round to the left edge; set the 6 columns that "
        "open on the left to 0 instead": np.roll(images, 6, axis=2),
        "that moves the digits left; move them right (towards larger column indices)": left,
        "that moves the digits down; shift along the last axis, the columns": down,
    })
    logits = autoencoder.predict(got.reshape(n, 784).astype(np.float32), verbose=0)
    expect_close("the shifted loss (nats per image)", shifted_loss,
                 _per_image_loss(got.reshape(n, 784), logits).mean(), rtol=1e-3, mistakes={
                     "that compares the reconstructions of shifted images with the unshifted "
                     "originals; the target is the shifted image itself":
                     _per_image_loss(x, logits).mean()})
    return "Now compare it with the unshifted loss and the mean-image baseline."


exercise_2 = Exercise(
    "Exercise 2", _check_shift,
    "reshape to (N, 28, 28), make an array of zeros, copy columns 0-21 of each image into "
    "columns 6-27, reshape back to (N, 784), and evaluate the autoencoder on shifted inputs "
    "with shifted targets.")


def _check_pca(pca_test_2d, difference_se, x_test, mean_image, principal_directions,
               ae_correct, pca_correct):
    x, centre = np.asarray(x_test, np.float64), np.asarray(mean_image, np.float64)
    directions = np.asarray(principal_directions, np.float64)
    expected = (x - centre) @ directions[:2].T
    expect_close("the 2-D PCA codes of the held-out images", pca_test_2d, expected, rtol=1e-4,
                 atol=1e-4, mistakes={
                     "the images were not centred: subtract mean_image before projecting":
                     x @ directions[:2].T,
                     "principal_directions holds one direction per ROW; project onto "
                     "principal_directions[:2]": (x - centre) @ directions[:, :2],
                 })
    ae, pca = np.asarray(ae_correct, np.float64), np.asarray(pca_correct, np.float64)
    n = len(ae)
    unpaired = np.sqrt(ae.var(ddof=1) / n + pca.var(ddof=1) / n)
    expect_close("the standard error of the accuracy difference", difference_se,
                 (ae - pca).std(ddof=1) / np.sqrt(n), rtol=1e-3, mistakes={
                     "that combines the two accuracies' own standard errors as if they were "
                     "independent; both are measured on the same images, so take the standard "
                     "error of the per-image differences ae_correct - pca_correct": unpaired})
    return None


exercise_3 = Exercise(
    "Exercise 3", _check_pca,
    "centre the images with mean_image and multiply by the first two rows of "
    "principal_directions, transposed; for the comparison, take mean_and_se of "
    "ae_correct - pca_correct.")
