"""The one set-up call every notebook makes first, :func:`setup_notebook`. Introduced in
notebook 01.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import re
import sys
import tempfile
import warnings

from .checks import check_int

DEFAULT_SEED = 42

# Notices TensorFlow's C++ core prints while it loads, whatever TF_CPP_MIN_LOG_LEVEL says.
_STARTUP_NOTICE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWE]\d{4} [\d:. ]+\d+ \S+\] (oneDNN custom operations are on"
    r"|Could not find cuda drivers|This TensorFlow binary is optimized"
    r"|Unable to register cu\w+ factory|TF-TRT Warning)"
)


def setup_notebook(seed: int = DEFAULT_SEED) -> int:
    """Seed every random number generator, quiet TensorFlow and style matplotlib.

    ``seed``, a non-negative int, seeds Python's ``random``, numpy and the Keras/TensorFlow
    backend (``keras.utils.set_random_seed``), and TensorFlow is asked for deterministic
    kernels (``enable_op_determinism``), so a re-run repeats exactly on the same machine.
    TensorFlow's start-up notices are quieted through its own switches (its C++ log level,
    read when TensorFlow loads, so call this first; its Python and absl loggers;
    deprecation warnings) and, for the few it prints while loading regardless, by holding
    back exactly those lines; errors and crash reports still show. In a notebook on Linux
    it also hands memory freed by each cell back to the system (``_release_memory``).
    Returns the seed, so a notebook can print it. Introduced in notebook 01.
    """
    seed = check_int(seed, "seed", minimum=0)
    # 3 hides the C++ core's INFO, WARNING and ERROR notices (CUDA probes on a machine
    # without a GPU); a fatal error and a crash still print.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if os.environ["KERAS_BACKEND"] != "tensorflow":
        raise RuntimeError(f"KERAS_BACKEND is {os.environ['KERAS_BACKEND']!r}; this course needs "
                           "the TensorFlow backend. Unset KERAS_BACKEND or set it to "
                           "'tensorflow', then restart the kernel.")
    with _startup_notices_filtered():  # loading TensorFlow and starting its runtime
        import absl.logging
        import keras
        import tensorflow as tf

        absl.logging.set_verbosity(absl.logging.ERROR)
        tf.get_logger().setLevel(logging.ERROR)
        keras.utils.set_random_seed(seed)  # Python, numpy and the backend in one call
        tf.config.experimental.enable_op_determinism()
        float(tf.reduce_sum(tf.zeros(1)))  # the first op: the runtime's own notices
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import matplotlib as mpl

    mpl.rc("figure", figsize=(8.0, 4.0), dpi=80)
    mpl.rc("savefig", dpi=100)
    mpl.rc("font", size=11)
    mpl.rc("axes", titlesize=12, labelsize=11, grid=True)
    mpl.rc("axes.spines", top=False, right=False)
    mpl.rc("grid", alpha=0.3)
    mpl.rc("legend", frameon=False)
    mpl.rc("image", cmap="gray")
    with contextlib.suppress(ImportError, OSError, AttributeError):  # IPython on glibc only
        from IPython import get_ipython

        _release_memory.malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        shell = get_ipython()
        if shell is not None and _release_memory not in shell.events.callbacks["post_run_cell"]:
            shell.events.register("post_run_cell", _release_memory)
    return seed


def _release_memory(result=None) -> None:
    """After each cell: collect garbage, then hand the C allocator's free memory back
    (glibc's ``malloc_trim``). Training leaves tens of MiB per ``fit`` freed but held by the
    allocator, so a kernel's resident memory creeps up cell by cell (notebook 05 peaked at
    about 1,050 MiB without this, 1,000 MiB with it: Binder guarantees 1 GiB)."""
    gc.collect()
    _release_memory.malloc_trim(0)


@contextlib.contextmanager
def _startup_notices_filtered():
    """Point file descriptor 2 at a temporary file for the block; then restore it (before
    the block's exception, if any, propagates) and write every line that is not a
    ``_STARTUP_NOTICE`` to stderr, so an error printed while TensorFlow loads still shows."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            text = held.read().decode("utf-8", "replace")
            sys.stderr.writelines(line for line in text.splitlines(keepends=True)
                                  if line.strip() and not _STARTUP_NOTICE.match(line))
