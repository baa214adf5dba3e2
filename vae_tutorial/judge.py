"""The digit judge: notebook 02's MNIST classifier (:func:`train_judge`), kept here so that
later notebooks score generated images with the same judge (:func:`judge_confidence`).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from .autoencoder import dense_stack
from .checks import IMAGE_PIXELS, check_images, check_int, check_labels, check_learning_rate
from .data import MnistData

NUM_CLASSES = 10
CONFIDENT = 0.9  # default threshold for "the judge is confident"
TRAINING_IMAGES = 10_000  # the judge trains on at most this many (the first) training images
_BATCH = 2048  # images per forward pass when scoring


def _digit_labels(labels, name: str, length: int) -> np.ndarray:
    labels = check_labels(labels, name, length=length)
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(f"{name} must be digits 0-{NUM_CLASSES - 1}; got values from "
                         f"{labels.min()} to {labels.max()}.")
    return labels


def train_judge(data: MnistData, *, seed: int = 0, epochs: int = 10, batch_size: int = 128,
                learning_rate: float = 2e-3) -> keras.Model:
    """Train notebook 02's digit classifier on ``data.x_train`` and return it.

    ``data``: what :func:`~vae_tutorial.data.load_mnist` returned (flattened or not); the
    judge trains on its first ``TRAINING_IMAGES`` (10,000) training images and labels, as
    notebook 02 does (the offline subset's 4,000 are used whole). ``seed`` fixes the
    initial weights and, with TensorFlow's global seed (which ``setup_notebook`` sets), the
    order of the batches; nothing global is reseeded. ``epochs``, ``batch_size``,
    ``learning_rate``: Adam on the cross-entropy of the logits, notebook 02's defaults.
    Returns a ``keras.Model`` mapping images (N, 784) to 10 logits, compiled with an
    ``accuracy`` metric (``judge.evaluate(x, y)`` gives loss and accuracy): about a second
    per epoch of 10,000 images on two CPU cores. Introduced in notebook 02.
    """
    if not isinstance(data, MnistData):
        raise TypeError(f"data must be what load_mnist returned (MnistData); got "
                        f"{type(data).__name__}.")
    seed = check_int(seed, "seed", minimum=0)
    epochs = check_int(epochs, "epochs")
    batch_size = check_int(batch_size, "batch_size")
    learning_rate = check_learning_rate(learning_rate)
    x = check_images(data.x_train, "data.x_train").reshape(-1, IMAGE_PIXELS)
    y = _digit_labels(data.y_train, "data.y_train", x.shape[0])
    x, y = x[:TRAINING_IMAGES], y[:TRAINING_IMAGES]

    inputs = keras.Input(shape=(IMAGE_PIXELS,), name="image")
    (logits,) = dense_stack(inputs, (128,), {"logits": NUM_CLASSES}, activation="relu",
                            prefix="judge", seed=seed)
    judge = keras.Model(inputs, logits, name="judge")
    judge.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], steps_per_execution=16)  # fewer Python round trips
    # Shuffle indices, not images: one copy of the images, whatever the data size.
    images, labels = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
    batches = (tf.data.Dataset.range(x.shape[0])
               .shuffle(x.shape[0], seed=seed, reshuffle_each_iteration=True)
               .batch(batch_size)
               .map(lambda rows: (tf.gather(images, rows), tf.gather(labels, rows))))
    judge.fit(batches, epochs=epochs, shuffle=False, verbose=0)  # shuffled above
    return judge


@dataclass(frozen=True)
class JudgeScores:
    """What the judge says about N images (returned by :func:`judge_confidence`).

    ``top_probability`` (N,): each image's largest softmax probability, in [0.1, 1];
    ``predicted`` (N,): the digit it picks (int64, 0-9); ``threshold``: the confidence
    threshold of ``share_confident``; ``accuracy``: the share of correct picks when
    labels were given, else None. Notebook 02's judge, packaged in notebook 05.
    """

    top_probability: np.ndarray
    predicted: np.ndarray
    threshold: float = CONFIDENT
    accuracy: float | None = None

    @property
    def n(self) -> int:
        """The number of images scored."""
        return int(self.top_probability.shape[0])

    @property
    def mean(self) -> float:
        """Mean top-class probability (notebook 02's "mean confidence")."""
        return float(self.top_probability.mean())

    @property
    def mean_error(self) -> float:
        """Standard error of ``mean`` (sample std / sqrt(N); 0 for one image)."""
        if self.n < 2:
            return 0.0
        return float(self.top_probability.std(ddof=1) / np.sqrt(self.n))

    @property
    def share_confident(self) -> float:
        """Share of images whose top-class probability exceeds ``threshold``."""
        return float(np.mean(self.top_probability > self.threshold))

    @property
    def share_confident_error(self) -> float:
        """Binomial standard error of ``share_confident``: sqrt(p (1 - p) / N)."""
        p = self.share_confident
        return float(np.sqrt(p * (1.0 - p) / self.n))

    @property
    def class_shares(self) -> np.ndarray:
        """(10,) share of images the judge assigns to each digit 0-9 (sums to 1)."""
        return np.bincount(self.predicted, minlength=NUM_CLASSES) / self.n

    @property
    def effective_classes(self) -> float:
        """exp(entropy of ``class_shares``): 10 when the images spread evenly over the ten
        digits, 1 when the judge calls them all the same digit (a sign of garbage)."""
        shares = self.class_shares[self.class_shares > 0]
        return float(np.exp(-np.sum(shares * np.log(shares))))

    def summary(self) -> str:
        """One line: mean confidence and share above the threshold, each with its error."""
        text = (f"mean confidence {self.mean:.2f} ± {self.mean_error:.2f}, "
                f"{self.share_confident:4.0%} ± {self.share_confident_error:.0%} "
                f"above {self.threshold:g}, {self.effective_classes:.1f} effective digits")
        if self.accuracy is not None:
            text += f", accuracy {self.accuracy:.1%}"
        return text


def judge_confidence(judge, images, labels=None, *, threshold: float = CONFIDENT) -> JudgeScores:
    """Score ``images`` with ``judge``: top-class probabilities and predicted digits.

    ``judge``: a classifier from :func:`train_judge` (any ``keras.Model`` mapping (N, 784)
    images to 10 logits). ``images``: floats in [0, 1], shape (N, 784) or (N, 28, 28), no
    NaN (real digits, decoded pixel probabilities, binary draws, noise). ``labels``:
    optional true digits (N,), which fill in ``accuracy``. ``threshold``: in (0, 1), the
    top probability ``share_confident`` counts images above. Returns :class:`JudgeScores`.
    A judge trained on real digits is confident on clear digits and hesitates on hybrids and
    smudges, but it can also be confident on images that are no digit at all: its scores
    mean something only next to a floor measured on non-digits (noise images). Introduced
    in notebook 02.
    """
    if not isinstance(judge, keras.Model):
        raise TypeError(f"judge must be a keras.Model (from train_judge); got "
                        f"{type(judge).__name__}.")
    if isinstance(threshold, bool) or not (isinstance(threshold, (int, float))
                                            and 0 < threshold < 1):
        raise ValueError(f"threshold must be a probability in (0, 1); got {threshold!r}.")
    x = check_images(images, "images").reshape(-1, IMAGE_PIXELS)
    logits = np.concatenate([keras.ops.convert_to_numpy(judge(x[i:i + _BATCH], training=False))
                             for i in range(0, x.shape[0], _BATCH)])
    if logits.shape != (x.shape[0], NUM_CLASSES):
        raise ValueError(f"judge must output {NUM_CLASSES} logits per image; got shape "
                         f"{logits.shape} for {x.shape[0]} images.")
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits.astype(np.float64)))
    predicted = probabilities.argmax(axis=1).astype(np.int64)
    accuracy = None
    if labels is not None:
        labels = _digit_labels(labels, "labels", x.shape[0])
        accuracy = float(np.mean(predicted == labels))
    return JudgeScores(top_probability=probabilities.max(axis=1), predicted=predicted,
                       threshold=float(threshold), accuracy=accuracy)
