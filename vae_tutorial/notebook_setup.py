"""The one set-up call every notebook makes first (introduced in notebook 01).

``setup_notebook()`` seeds Python, numpy and Keras/TensorFlow in one place, quiets
TensorFlow's start-up log noise without hiding errors, and sets matplotlib defaults that
read well. Call it before anything imports TensorFlow: the C++ log level is read when
TensorFlow loads.
"""

from __future__ import annotations

import logging
import os
import warnings

from .checks import check_int

DEFAULT_SEED = 42

_FIGURE_DEFAULTS = {
    "figure.figsize": (8.0, 4.0),
    "figure.dpi": 80,
    "savefig.dpi": 100,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "image.cmap": "gray",
}


def setup_notebook(seed: int = DEFAULT_SEED) -> int:
    """Seed every random number generator, quiet TensorFlow and style matplotlib.

    ``seed``, a non-negative int, seeds Python's ``random``, numpy and the Keras/TensorFlow
    backend (``keras.utils.set_random_seed``), and TensorFlow is asked for deterministic
    kernels (``enable_op_determinism``), so a re-run repeats exactly on the same machine.
    TensorFlow's start-up notices are quieted through its own switches (its C++ log
    level, its Python and absl loggers, deprecation warnings); errors and crash reports
    still reach the notebook and the terminal. Returns the seed, so a notebook can print
    it. Introduced in notebook 01.
    """
    seed = check_int(seed, "seed", minimum=0)

    # Read by TensorFlow's C++ core when it is first imported: 3 hides its INFO, WARNING
    # and ERROR notices (CUDA probes on a machine without a GPU); a fatal error and a
    # crash still print. In Jupyter these C++ notices go to the server's terminal anyway.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if os.environ["KERAS_BACKEND"] != "tensorflow":
        raise RuntimeError(
            f"KERAS_BACKEND is {os.environ['KERAS_BACKEND']!r}; this course needs the "
            "TensorFlow backend. Unset KERAS_BACKEND or set it to 'tensorflow', then "
            "restart the kernel."
        )
    import absl.logging
    import keras
    import matplotlib as mpl
    import tensorflow as tf

    absl.logging.set_verbosity(absl.logging.ERROR)
    tf.get_logger().setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    keras.utils.set_random_seed(seed)  # Python, numpy and the backend in one call
    tf.config.experimental.enable_op_determinism()
    mpl.rcParams.update(_FIGURE_DEFAULTS)
    return seed
