"""Unit tests for vae_tutorial.judge: notebook 02's digit classifier and its scores.

One judge is trained with the default (notebook 02) settings on the offline MNIST subset
and shared by the tests that only read it (about 3 s on two cores); the other tests use a
tiny untrained or one-epoch judge, or hand-made scores.
"""

from __future__ import annotations

import math
from dataclasses import replace

import keras
import numpy as np
import pytest

from vae_tutorial import judge as judge_module
from vae_tutorial.data import MnistData, load_mnist
from vae_tutorial.judge import JudgeScores, judge_confidence, train_judge

# Keras converts TF variables with np.array, which NumPy 2 flags.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


@pytest.fixture(scope="module")
def mnist() -> MnistData:
    return load_mnist(source="offline", flatten=True)


@pytest.fixture(scope="module")
def small(mnist) -> MnistData:
    """The first 500 training images: enough for the quick judges below."""
    return replace(mnist, x_train=mnist.x_train[:500], y_train=mnist.y_train[:500])


@pytest.fixture(scope="module")
def judge(mnist):
    return train_judge(mnist, seed=0)


def test_the_judge_is_notebook_02s_classifier(judge):
    dense = [layer for layer in judge.layers if isinstance(layer, keras.layers.Dense)]
    assert [(layer.units, layer.activation.__name__) for layer in dense] == [
        (128, "relu"), (10, "linear")]
    assert judge.input_shape == (None, 784)
    assert math.isclose(float(keras.ops.convert_to_numpy(judge.optimizer.learning_rate)), 2e-3,
                        rel_tol=1e-6)


def test_the_judge_classifies_held_out_digits(judge, mnist):
    scores = judge_confidence(judge, mnist.x_test, mnist.y_test)
    # Notebook 02's judge reaches about 93% on these 1,000 held-out digits.
    assert scores.accuracy > 0.9
    assert scores.share_confident > 0.7
    assert scores.effective_classes > 9.5  # the test split holds 100 of each digit
    _, keras_accuracy = judge.evaluate(mnist.x_test, mnist.y_test, verbose=0)
    assert scores.accuracy == pytest.approx(keras_accuracy, abs=1e-6)


def test_scores_are_the_softmax_of_the_logits(judge, mnist):
    images = mnist.x_test[:50]
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(judge(images)))
    scores = judge_confidence(judge, images.reshape(-1, 28, 28))  # (N, 28, 28) works too
    np.testing.assert_allclose(scores.top_probability, probabilities.max(axis=1), rtol=1e-5)
    np.testing.assert_array_equal(scores.predicted, probabilities.argmax(axis=1))
    assert scores.predicted.dtype == np.int64 and scores.n == 50
    assert np.all((scores.top_probability >= 0.1) & (scores.top_probability <= 1.0))
    assert scores.accuracy is None


def test_scoring_in_chunks_gives_the_same_scores(judge, mnist, monkeypatch):
    whole = judge_confidence(judge, mnist.x_test[:100])
    monkeypatch.setattr(judge_module, "_BATCH", 7)
    chunked = judge_confidence(judge, mnist.x_test[:100])
    np.testing.assert_allclose(chunked.top_probability, whole.top_probability, rtol=1e-5)
    np.testing.assert_array_equal(chunked.predicted, whole.predicted)


def test_the_same_seed_trains_the_same_judge(small):
    first = train_judge(small, seed=3, epochs=1)
    second = train_judge(small, seed=3, epochs=1)
    other = train_judge(small, seed=4, epochs=1)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])


def test_a_large_training_split_is_capped_as_in_notebook_02(small, monkeypatch):
    # Notebook 02's judge trains on the first 10,000 training images of the full MNIST.
    assert judge_module.TRAINING_IMAGES == 10_000
    monkeypatch.setattr(judge_module, "TRAINING_IMAGES", 200)
    capped = train_judge(small, seed=3, epochs=1)  # 500 images, capped to the first 200
    first = train_judge(replace(small, x_train=small.x_train[:200],
                                y_train=small.y_train[:200]), seed=3, epochs=1)
    for a, b in zip(capped.get_weights(), first.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    monkeypatch.setattr(judge_module, "TRAINING_IMAGES", 10_000)  # 500 images, all used
    uncapped = train_judge(small, seed=3, epochs=1)
    assert not np.array_equal(uncapped.get_weights()[0], first.get_weights()[0])


def scores_of(top, predicted, **kwargs) -> JudgeScores:
    return JudgeScores(np.asarray(top, dtype=float), np.asarray(predicted, dtype=np.int64),
                       **kwargs)


def test_summaries_by_hand():
    scores = scores_of([0.95, 0.5, 0.91, 0.99], [3, 3, 1, 7])
    assert scores.n == 4
    assert scores.mean == pytest.approx(np.mean([0.95, 0.5, 0.91, 0.99]))
    assert scores.mean_error == pytest.approx(np.std([0.95, 0.5, 0.91, 0.99], ddof=1) / 2)
    assert scores.share_confident == 0.75  # 0.5 is not above 0.9
    assert scores.share_confident_error == pytest.approx(math.sqrt(0.75 * 0.25 / 4))
    np.testing.assert_allclose(scores.class_shares, [0, 0.25, 0, 0.5, 0, 0, 0, 0.25, 0, 0])
    assert scores.effective_classes == pytest.approx(math.exp(-(0.5 * math.log(0.5)
                                                                + 0.5 * math.log(0.25))))
    assert "75% ± 22% above 0.9" in scores.summary()
    assert scores_of([0.95, 0.5], [0, 1], threshold=0.4).share_confident == 1.0


def test_effective_classes_runs_from_one_to_ten():
    assert scores_of([0.99] * 20, [3] * 20).effective_classes == pytest.approx(1.0)
    assert scores_of([0.99] * 20, list(range(10)) * 2).effective_classes == pytest.approx(10.0)


def test_one_image_has_no_standard_error(judge, mnist):
    scores = judge_confidence(judge, mnist.x_test[0:1])
    assert scores.n == 1 and scores.mean_error == 0.0
    assert scores.share_confident_error == 0.0


def test_accuracy_appears_in_the_summary(judge, mnist):
    text = judge_confidence(judge, mnist.x_test[:10], mnist.y_test[:10]).summary()
    assert "accuracy" in text and "effective digits" in text


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.full((2, 784), 0.5, dtype=np.float32)[:, :100], "shape"),
        (np.full((2, 784), np.nan, dtype=np.float32), "non-finite"),
        (np.full((2, 784), 255.0, dtype=np.float32), r"\[0, 1\]"),
        (np.full((2, 784), -0.1, dtype=np.float32), r"\[0, 1\]"),
        (np.zeros((0, 784), dtype=np.float32), "empty"),
    ],
)
def test_bad_images_raise_a_clear_error(judge, images, message):
    with pytest.raises(ValueError, match=message):
        judge_confidence(judge, images)


def test_byte_images_are_refused_with_a_hint(judge):
    with pytest.raises(TypeError, match="255"):
        judge_confidence(judge, np.zeros((2, 784), dtype=np.uint8))


@pytest.mark.parametrize("labels", [[0, 1, 2], [0, 10], [-1, 3], [0.5, 1.0]])
def test_bad_labels_are_named(judge, mnist, labels):
    with pytest.raises((ValueError, TypeError), match="labels"):
        judge_confidence(judge, mnist.x_test[:2], labels)


@pytest.mark.parametrize("threshold", [0, 1, 1.5, -0.2, True, "0.9"])
def test_bad_threshold_is_refused(judge, mnist, threshold):
    with pytest.raises(ValueError, match="threshold"):
        judge_confidence(judge, mnist.x_test[:2], threshold=threshold)


def test_the_judge_must_be_a_keras_model(mnist):
    with pytest.raises(TypeError, match="keras.Model"):
        judge_confidence(lambda x: x, mnist.x_test[:2])


def test_a_judge_with_the_wrong_number_of_outputs_is_refused(mnist):
    two_classes = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="10 logits"):
        judge_confidence(two_classes, mnist.x_test[:3])


def test_train_judge_needs_mnist_data(mnist):
    with pytest.raises(TypeError, match="load_mnist"):
        train_judge((mnist.x_train, mnist.y_train))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"), ({"epochs": 0}, "epochs"),
     ({"batch_size": 0}, "batch_size"), ({"learning_rate": 0.0}, "learning_rate"),
     ({"learning_rate": 2}, "learning_rate")],
)
def test_bad_training_settings_are_named(small, kwargs, name):
    with pytest.raises(ValueError, match=name):
        train_judge(small, **kwargs)


def test_bad_training_labels_are_named(small):
    bad = replace(small, y_train=small.y_train + 10)
    with pytest.raises(ValueError, match="data.y_train"):
        train_judge(bad, epochs=1)
