"""Unit tests for vae_tutorial.setup_notebook and the package's lazy exports.

What reaches stderr (native writes to file descriptor 2 included) is tested in a child
Python process.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pytest

import vae_tutorial
from vae_tutorial.notebook_setup import DEFAULT_SEED, setup_notebook

ROOT = Path(__file__).resolve().parents[1]
ENV_VARS = ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL")


def child_env() -> dict[str, str]:
    """The environment of a fresh learner's process: setup_notebook picks the defaults."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          env=child_env(), capture_output=True, text=True, timeout=120)


@pytest.fixture
def clean_env(monkeypatch):
    """Unset the variables setup_notebook defaults, and restore them after the test."""
    for var in ENV_VARS:
        monkeypatch.setenv(var, "placeholder")  # recorded, so teardown restores the original
        monkeypatch.delenv(var)
    return monkeypatch


@pytest.fixture
def restore_rcparams():
    with mpl.rc_context():
        yield


# --------------------------------------------------------------------------- in process


def draws() -> dict[str, np.ndarray]:
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    kernel, bias = model.get_weights()
    return {
        "numpy": np.random.rand(4),  # noqa: NPY002 (the global state that is seeded)
        "python": np.array([random.random() for _ in range(4)]),
        "keras.random": keras.ops.convert_to_numpy(keras.random.normal((4,))),
        "dense kernel": kernel,
    }


def test_same_seed_repeats_every_generator_and_another_seed_does_not(clean_env, restore_rcparams):
    assert setup_notebook(123) == 123
    first = draws()
    assert setup_notebook(123) == 123
    again = draws()
    setup_notebook(124)
    other = draws()
    for name in first:
        np.testing.assert_array_equal(first[name], again[name], err_msg=name)
        assert not np.array_equal(first[name], other[name]), name


def test_default_seed_is_returned(clean_env, restore_rcparams):
    assert setup_notebook() == DEFAULT_SEED == 42


def test_sets_backend_and_log_level_defaults_but_keeps_the_learners(clean_env, restore_rcparams):
    setup_notebook(0)
    assert os.environ["KERAS_BACKEND"] == "tensorflow"
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    clean_env.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    setup_notebook(0)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"


def test_asks_tensorflow_for_deterministic_kernels(clean_env, restore_rcparams):
    import tensorflow as tf

    calls = []
    clean_env.setattr(tf.config.experimental, "enable_op_determinism", lambda: calls.append(1))
    setup_notebook(0)
    assert calls == [1]


def test_matplotlib_defaults_are_set(clean_env, restore_rcparams):
    mpl.rcParams["axes.grid"] = False
    mpl.rcParams["image.cmap"] = "viridis"
    mpl.rcParams["axes.spines.top"] = True
    setup_notebook(0)
    assert mpl.rcParams["axes.grid"] is True
    assert mpl.rcParams["image.cmap"] == "gray"
    assert mpl.rcParams["axes.spines.top"] is False
    assert tuple(mpl.rcParams["figure.figsize"]) == (8.0, 4.0)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "1", None])
def test_invalid_seed(seed, clean_env):
    with pytest.raises(ValueError, match=f"^seed must be a non-negative int; got {seed!r}"):
        setup_notebook(seed)


@pytest.mark.parametrize("backend", ["jax", "torch", ""])
def test_another_keras_backend_is_refused_with_a_fix(backend, clean_env):
    clean_env.setenv("KERAS_BACKEND", backend)
    fd2_before = os.fstat(2)
    with pytest.raises(RuntimeError) as info:
        setup_notebook(0)
    message = str(info.value)
    assert f"KERAS_BACKEND is {backend!r}" in message
    assert "TensorFlow backend" in message and "restart the kernel" in message
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (fd2_before.st_dev, fd2_before.st_ino)


# --------------------------------------------------------------------------- child processes


STDERR_SCRIPT = """
    import os, sys, warnings
    from vae_tutorial import setup_notebook
    setup_notebook()
    import tensorflow as tf
    float(tf.reduce_sum(tf.random.uniform((4, 4))))  # start the runtime: any lazy C++ logs
    tf.get_logger().warning("hidden-tf-warning")
    os.write(2, b"native-write-to-fd2\\n")  # what a crashing C++ library prints
    sys.stderr.write("shown-by-sys-stderr\\n")
    warnings.warn("shown-warning")
    raise RuntimeError("shown-traceback")
"""


def test_errors_still_reach_stderr_and_tensorflow_notices_do_not():
    proc = run_python(STDERR_SCRIPT)
    err = proc.stderr
    assert proc.returncode == 1, err
    assert "native-write-to-fd2" in err  # file descriptor 2 is never sent to /dev/null
    assert "shown-by-sys-stderr" in err
    assert "UserWarning: shown-warning" in err
    assert "RuntimeError: shown-traceback" in err
    assert "hidden-tf-warning" not in err
    assert "cuinit" not in err.lower(), err  # an ERROR-level CUDA probe, hidden by level 3
    assert "oneDNN" not in err and "InitializeLog" not in err, err  # load-time notices


FILTER_SCRIPT = """
    import os, sys
    from vae_tutorial.notebook_setup import _startup_notices_filtered
    with _startup_notices_filtered():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are "
                    b"written to STDERR\\n")
        os.write(2, b"I0000 00:00:1796140932.436277   18761 port.cc:153] oneDNN custom "
                    b"operations are on. You may see slightly different numerical results\\n")
        os.write(2, b"E0000 00:00:1796140932.5   18761 loader.cc:1] a real load error\\n")
    os.write(2, b"after-the-block\\n")
"""


def test_only_known_start_up_notices_are_held_back():
    proc = run_python(FILTER_SCRIPT)
    assert proc.returncode == 0, proc.stderr
    assert "a real load error" in proc.stderr  # anything else printed while loading shows
    assert "after-the-block" in proc.stderr  # fd 2 is restored
    assert "oneDNN" not in proc.stderr and "InitializeLog" not in proc.stderr


# --------------------------------------------------------------------------- lazy package exports


def test_importing_the_package_does_not_start_tensorflow():
    result = run_python("""
        import sys
        import vae_tutorial
        from vae_tutorial import setup_notebook, image_grid  # noqa: F401
        import vae_tutorial.checks  # noqa: F401
        heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
        print("HEAVY", heavy)
    """)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout


def test_every_exported_name_resolves():
    assert vae_tutorial.__all__ == sorted(vae_tutorial.__all__)
    assert {"setup_notebook", "build_dense_autoencoder", "image_grid", "load_mnist"} <= set(
        vae_tutorial.__all__)
    for name in vae_tutorial.__all__:
        value = getattr(vae_tutorial, name)
        assert value is not None
        assert getattr(value, "__name__", name) == name
        assert name in dir(vae_tutorial)
    assert vae_tutorial.setup_notebook is setup_notebook


def test_an_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'vae_tutorial' has no attribute 'nope'"):
        vae_tutorial.nope  # noqa: B018
    assert not hasattr(vae_tutorial, "check_images")  # not exported from the top level
    with pytest.raises(ImportError):
        from vae_tutorial import nope  # noqa: F401


TRIM_SCRIPT = """
    from IPython.core.interactiveshell import InteractiveShell
    from vae_tutorial import setup_notebook
    shell = InteractiveShell.instance()
    setup_notebook()
    setup_notebook()  # a second set-up must not register the hook twice
    hooks = [c for c in shell.events.callbacks["post_run_cell"]
             if getattr(c, "__name__", "") == "_release_memory"]
    assert len(hooks) == 1, hooks
    shell.run_cell("x = [bytearray(1 << 20) for _ in range(50)]; del x")  # runs the hook
    print("hooked")
"""


def test_a_notebook_hands_freed_memory_back_after_each_cell_once():
    proc = run_python(TRIM_SCRIPT)
    assert proc.returncode == 0, proc.stderr
    assert "hooked" in proc.stdout
