"""Self-checks for notebook 01's exercises (autoencoders). Each check recomputes its reference
from the learner's own model and data (no training)."""

from __future__ import annotations

import numpy as np

from . import Mismatch, exercise, expect_close

PIXEL_SUM = ("that is a mean over the 784 pixels; sum the pixels' cross-entropies (as "
             "reconstruction_bce does) to get nats per image")


def _per_digit_table(per_digit) -> np.ndarray:
    """(10, 2) array of (mean, standard error) from a dict {digit: (mean, se)} or 10 pairs."""
    if isinstance(per_digit, dict) and (missing := [d for d in range(10) if d not in per_digit]):
        raise Mismatch(f"per_digit has no entry for digit(s) {missing}; it needs one per "
                       "digit 0-9.")
    rows = [per_digit[d] for d in range(10)] if isinstance(per_digit, dict) else list(per_digit)
    try:
        table = np.asarray([np.asarray(row, np.float64).reshape(-1) for row in rows])
    except (TypeError, ValueError):
        table = np.empty(0)
    if table.shape != (10, 2):
        raise Mismatch("per_digit should give each digit 0-9 a pair (mean loss, standard "
                       "error), e.g. from mean_and_se.")
    return table


@exercise("compute reconstruction_bce per image on the held-out set, then select the images of "
          "each digit with y_test == digit and take mean_and_se of their losses.")
def exercise_1(per_digit, autoencoder, x_test, y_test):
    from vae_tutorial import bernoulli_log_likelihood

    table = _per_digit_table(per_digit)
    logits = autoencoder.predict(x_test, verbose=0)
    per_image = -bernoulli_log_likelihood(np.asarray(x_test, np.float64), logits)
    for digit in range(10):
        values = per_image[np.asarray(y_test) == digit]
        mean, se = values.mean(), values.std(ddof=1) / np.sqrt(len(values))
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


@exercise("reshape to (N, 28, 28), make an array of zeros, copy columns 0-21 of each image into "
          "columns 6-27, reshape back to (N, 784), and evaluate the autoencoder on shifted "
          "inputs with shifted targets.")
def exercise_2(shifted, shifted_loss, autoencoder, x_test):
    from vae_tutorial import bernoulli_log_likelihood

    x = np.asarray(x_test, np.float64)
    n = x.shape[0]
    got = np.asarray(shifted, np.float64)
    if got.size != x.size:
        raise Mismatch(f"shifted should hold the {n} held-out images, {x.size} numbers; got "
                       f"shape {got.shape}.")
    got, images = got.reshape(n, 28, 28), x.reshape(n, 28, 28)
    expected = np.pad(images, [(0, 0), (0, 0), (6, 0)])[:, :, :28]
    expect_close("the shifted images", got, expected, atol=1e-6, mistakes={
        "np.roll wraps the rightmost columns round to the left edge; set the 6 columns that "
        "open on the left to 0 instead": np.roll(images, 6, axis=2),
        "that moves the digits left; move them right (towards larger column indices)":
        np.pad(images, [(0, 0), (0, 0), (0, 6)])[:, :, 6:],
        "that moves the digits down; shift along the last axis, the columns":
        np.pad(images, [(0, 0), (6, 0), (0, 0)])[:, :28],
    })
    logits = autoencoder.predict(got.reshape(n, 784).astype(np.float32), verbose=0)
    expect_close("the shifted loss (nats per image)", shifted_loss,
                 -bernoulli_log_likelihood(expected.reshape(n, 784), logits).mean(), rtol=1e-3,
                 mistakes={"that compares the reconstructions of shifted images with the "
                           "unshifted originals; the target is the shifted image itself":
                           -bernoulli_log_likelihood(x, logits).mean()})
    return "Now compare it with the unshifted loss and the mean-image baseline."


@exercise("centre the images with mean_image and multiply by the first two rows of "
          "principal_directions, transposed; for the comparison, take mean_and_se of "
          "ae_correct - pca_correct.")
def exercise_3(pca_test_2d, difference_se, x_test, mean_image, principal_directions,
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
