"""The one set-up call every notebook makes first (introduced in notebook 01).

``setup_notebook()`` seeds Python, numpy and Keras/TensorFlow in one place, quiets
TensorFlow's start-up log noise, and sets matplotlib defaults that read well. Call it
before anything imports TensorFlow: the C++ log level is read when TensorFlow loads.
"""

from __future__ import annotations

import logging
import os
import sys
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


def setup_notebook(seed: int = DEFAULT_SEED, *, deterministic: bool = True,
                   quiet_cpp_logs: bool = True) -> int:
    """Seed every random number generator, quiet TensorFlow and style matplotlib.

    Parameters
    ----------
    seed:
        Non-negative int seeding Python's ``random``, numpy and the Keras/TensorFlow
        backend (through ``keras.utils.set_random_seed``). The same seed on the same
        machine gives the same results.
    deterministic:
        Also ask TensorFlow for deterministic kernels (``enable_op_determinism``), so a
        re-run repeats exactly on the same machine; costs a little speed.
    quiet_cpp_logs:
        Send writes to file descriptor 2 (where TensorFlow's C++ core logs CUDA probes
        and graph notices, bypassing Python) to /dev/null from now on. Python warnings
        and tracebacks go through ``sys.stderr`` and still show. Pass False when
        debugging TensorFlow itself.

    Returns
    -------
    The seed used, so a notebook can print it.
    """
    seed = check_int(seed, "seed", minimum=0)

    # Read by TensorFlow's C++ core when it is first imported: 3 hides INFO and WARNING.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if os.environ["KERAS_BACKEND"] != "tensorflow":
        raise RuntimeError(
            f"KERAS_BACKEND is {os.environ['KERAS_BACKEND']!r}; this course needs the "
            "TensorFlow backend. Unset KERAS_BACKEND or set it to 'tensorflow', then "
            "restart the kernel."
        )

    if quiet_cpp_logs:
        _silence_stderr_fd()
    import keras
    import matplotlib as mpl
    import tensorflow as tf

    tf.get_logger().setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    keras.utils.set_random_seed(seed)  # Python, numpy and the backend in one call
    if deterministic:
        tf.config.experimental.enable_op_determinism()

    mpl.rcParams.update(_FIGURE_DEFAULTS)
    return seed


def _silence_stderr_fd() -> None:
    """Point file descriptor 2 at /dev/null for good (see ``quiet_cpp_logs``).

    In a Jupyter kernel ``sys.stderr`` is the kernel's own stream and is not descriptor 2.
    In a plain Python process it is, so it is first moved to a copy of descriptor 2:
    Python warnings and tracebacks keep showing there, as the docstring above promises.
    """
    stream = sys.stderr
    if stream is not None:
        stream.flush()
        try:
            writes_to_fd2 = stream.fileno() == 2
        except (AttributeError, OSError, ValueError):  # e.g. io.UnsupportedOperation
            writes_to_fd2 = False
        if writes_to_fd2:
            sys.stderr = os.fdopen(os.dup(2), "w", buffering=1,
                                   encoding=stream.encoding, errors=stream.errors)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)

