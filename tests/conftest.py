"""Shared test set-up: Keras on TensorFlow, quiet C++ logs (read when TensorFlow loads).

pytest imports this before any test module, so it runs before anything imports TensorFlow.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
