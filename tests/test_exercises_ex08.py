"""Notebook 08's exercise checks pass the worked solutions and name typical mistakes."""

import numpy as np
import pytest

from vae_tutorial.exercises import ex08


def conv_weights(kernel_size, channels_in, filters):
    return (kernel_size * kernel_size * channels_in + 1) * filters


def dense_weights(inputs, units):
    return (inputs + 1) * units


def test_exercise_1_passes_the_solution_and_agrees_with_keras():
    import keras

    verdict = ex08.exercise_1.evaluate(conv_weights, dense_weights)
    assert verdict.passed, verdict.message
    layer = keras.layers.Conv2D(32, 3)
    layer.build((None, 14, 14, 16))
    assert layer.count_params() == conv_weights(3, 16, 32)


@pytest.mark.parametrize("conv, dense, message", [
    (lambda k, c, f: k * k * c * f, dense_weights, "leaves out the biases: each filter"),
    (lambda k, c, f: (k * k + 1) * f, dense_weights, "spans all 16 input channels"),
    (lambda k, c, f: (k + c + 1) * f, dense_weights, "is not the number of weights of 16 filters"),
    (conv_weights, lambda i, u: i * u, "leaves out the biases: each unit"),
    (conv_weights, lambda i, u: i * u + 1, "is not the number of weights of a Dense layer"),
    (lambda k, c, f: [1, 2], dense_weights, "one whole number"),
    (lambda k, c, f: 1.5, dense_weights, "one whole number"),
])
def test_exercise_1_names_typical_mistakes(conv, dense, message):
    verdict = ex08.exercise_1.evaluate(conv, dense)
    assert not verdict.passed and message in verdict.message
    assert "(3 * 3" not in verdict.message  # no formula given away


def centroid_case(seed=0):
    rng = np.random.default_rng(seed)
    train_labels, test_labels = rng.integers(0, 10, 300), rng.integers(0, 10, 100)
    train_codes = rng.standard_normal((300, 2)) + train_labels[:, None] * 0.3
    test_codes = rng.standard_normal((100, 2)) + test_labels[:, None] * 0.3
    centroids = np.stack([train_codes[train_labels == k].mean(axis=0) for k in range(10)])
    nearest = np.linalg.norm(test_codes[:, None] - centroids[None], axis=2).argmin(axis=1)
    return train_codes, train_labels, test_codes, test_labels, np.mean(nearest == test_labels)


def test_exercise_2_passes_the_solution():
    verdict = ex08.exercise_2.evaluate(*centroid_case())
    assert verdict.passed, verdict.message
    assert "Chance would be 10%" in verdict.message


@pytest.mark.parametrize("change, message", [
    (lambda c: (*c[:4], 100 * c[4]), "a percentage"),
    (lambda c: (*c[:4], c[4] + 0.05), "nearest-centroid accuracy for these codes: expected"),
    (lambda c: (c[0], c[1], c[2][:, :1], c[3], c[4]), "same number of columns"),
    (lambda c: (c[0], c[1][:-1], *c[2:]), "one digit per code"),
    (lambda c: (c[0][:, 0], *c[1:]), "shape (N, K)"),
])
def test_exercise_2_names_typical_mistakes(change, message):
    verdict = ex08.exercise_2.evaluate(*change(centroid_case()))
    assert not verdict.passed and message in verdict.message


def test_exercise_3_passes_a_good_classifier_and_refuses_a_bad_one():
    labels = np.repeat(np.arange(10), 10)
    good = labels.copy()
    good[:8] = (good[:8] + 1) % 10
    verdict = ex08.exercise_3.evaluate(good, labels)
    assert verdict.passed and "92.0% right" in verdict.message
    argmax = (labels + 3) % 10  # the highest negative ELBO instead of the lowest
    verdict = ex08.exercise_3.evaluate(argmax, labels)
    assert not verdict.passed and "LOWEST" in verdict.message
    for bad, message in [(good[:50], "shape (100,)"), (good.astype(float), "digits 0-9"),
                         (good + 10, "digits 0-9")]:
        verdict = ex08.exercise_3.evaluate(bad, labels)
        assert not verdict.passed and message in verdict.message
