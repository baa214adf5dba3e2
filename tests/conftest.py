"""Shared test set-up: Keras on TensorFlow, quiet C++ logs (read when TensorFlow loads).

pytest imports this before any test module, so it runs before anything imports TensorFlow.
"""

import os

import numpy as np  # neither loads TensorFlow, so the settings below still come first
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture
def check_negative_elbo_history():
    """A check of a VAE's ``fit(...).history`` with validation data: exactly the three
    metrics, for training and validation, and each loss its reconstruction plus its KL (the
    unweighted negative ELBO, whatever beta or free bits the model trains on)."""

    def check(history):
        assert set(history) == {"loss", "reconstruction", "kl", "val_loss",
                                "val_reconstruction", "val_kl"}
        for prefix in ("", "val_"):
            np.testing.assert_allclose(history[prefix + "loss"],
                                       np.add(history[prefix + "reconstruction"],
                                              history[prefix + "kl"]), rtol=1e-5)

    return check
