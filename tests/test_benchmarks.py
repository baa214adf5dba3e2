"""Tests of the benchmark scripts, without the benchmarks' own (slow) runs.

A smoke test of benchmarks/train_vae.py: a tiny run writes both rows as JSON. Speed targets
live in the benchmark itself, not here; this only checks that the script runs end to end
(each row in its own child process) and reports what it promises. Two epochs, because
seconds per epoch is a median that leaves out the first (tracing) epoch.

``benchmarks/notebooks.py`` is not run here (it executes every notebook); its full-size
stand-in for MNIST (``benchmarks/full_size_mnist.py``), the hook that installs it and the
budget verdicts are tested on their own.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import vae_tutorial
import vae_tutorial.data as data_module
from vae_tutorial import MnistData, load_mnist

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "train_vae.py"


def load_script(name: str):
    """Import benchmarks/<name>.py under a private module name (it imports `machine`)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location(f"benchmark_{name}", SCRIPT.with_stem(name))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


ROW_KEYS = {
    "row", "heldout_nelbo", "heldout_reconstruction", "heldout_kl", "train_nelbo",
    "final_train_loss", "s_per_epoch", "cpu_s_per_epoch", "first_epoch_s", "total_s",
    "epoch_s", "epoch_cpu_s", "peak_mib", "growth_mib",
}

stand_in = load_script("full_size_mnist")
notebooks_benchmark = load_script("notebooks")


def test_train_vae_benchmark_writes_both_rows(tmp_path):
    out = tmp_path / "out.json"
    env = dict(os.environ, VAE_TUTORIAL_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--epochs", "2", "--hidden", "16", "--latent-dim", "2",
         "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "package/bare s/epoch:" in proc.stdout
    assert "target held-out -ELBO <= 113 nats" in proc.stdout

    result = json.loads(out.read_text())
    assert [row["row"] for row in result["rows"]] == ["package", "bare"]
    for row in result["rows"]:
        assert ROW_KEYS <= row.keys(), ROW_KEYS - row.keys()
        for key in ROW_KEYS - {"row", "epoch_s", "epoch_cpu_s"}:
            if key == "growth_mib" and not sys.platform.startswith("linux"):
                continue  # read from /proc/self/statm: None elsewhere
            assert isinstance(row[key], float) and math.isfinite(row[key]), (key, row[key])
        assert len(row["epoch_s"]) == len(row["epoch_cpu_s"]) == 2
        assert 0 < row["heldout_kl"] < row["heldout_nelbo"] < 784 * math.log(2) * 2
        assert row["peak_mib"] > 0
    assert math.isfinite(result["ratio"]) and result["ratio"] > 0
    assert set(result["targets"]) == {"heldout_nelbo", "ratio"}
    assert result["settings"]["epochs"] == 2


# --------------------------------------------------------------------------- notebooks.py


@pytest.fixture(scope="module")
def offline():
    return load_mnist(source="offline")


@pytest.fixture(scope="module")
def full(offline):
    return stand_in.full_size(offline)


def test_stand_in_has_the_full_mnist_shapes_dtypes_and_source(offline, full):
    assert isinstance(full, MnistData)
    assert full.source == "keras" and "stand-in" in full.description
    assert full.x_train.shape == (60_000, 28, 28) and full.x_test.shape == (10_000, 28, 28)
    assert full.y_train.shape == (60_000,) and full.y_test.shape == (10_000,)
    assert full.x_train.dtype == full.x_test.dtype == np.float32
    assert full.y_train.dtype == full.y_test.dtype == np.int64
    for images in (full.x_train, full.x_test):
        assert images.min() == 0.0 and images.max() == 1.0
    assert offline.source == "offline" and offline.x_train.shape == (4_000, 28, 28)  # untouched


def test_stand_in_is_class_balanced_and_shuffled(full):
    assert np.bincount(full.y_train).tolist() == [6_000] * 10
    assert np.bincount(full.y_test).tolist() == [1_000] * 10
    assert len(set(full.y_train[:20].tolist())) > 3  # shuffled, not in blocks of one digit


def test_stand_in_images_are_shifted_copies_that_keep_their_ink(offline, full):
    # A 1-pixel shift cuts off almost nothing: MNIST digits sit in a blank margin.
    for images, original, copies in (
        (full.x_train, offline.x_train, 15),
        (full.x_test, offline.x_test, 10),
    ):
        ink, kept = copies * original.sum(dtype=np.float64), images.sum(dtype=np.float64)
        assert 0 <= ink - kept < 1e-3 * ink
    originals = {
        image.tobytes(): label
        for image, label in zip(offline.x_train, offline.y_train, strict=True)
    }
    exact = [
        (image.tobytes(), label) for image, label in zip(full.x_train, full.y_train, strict=True)
    ]
    found = [originals[key] == label for key, label in exact if key in originals]
    assert len(found) == 4_000 and all(found)  # copy 0 is the original, with its label
    test_images = {image.tobytes() for image in full.x_test}
    assert not test_images & {image.tobytes() for image in full.x_train}  # no leak


def test_stand_in_is_deterministic_and_keeps_flat_images(offline, full):
    again = stand_in.full_size(offline)
    assert np.array_equal(again.x_train, full.x_train)
    assert np.array_equal(again.y_test, full.y_test)
    flat = stand_in.full_size(load_mnist(source="offline", flatten=True))
    assert flat.x_train.shape == (60_000, 784) and flat.x_test.shape == (10_000, 784)
    assert np.array_equal(flat.x_train.reshape(-1, 28, 28), full.x_train)


def test_shifted_moves_and_zero_fills():
    image = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3)
    assert stand_in.shifted(image, 1, -1)[0].tolist() == [[0, 0, 0], [2, 3, 0], [5, 6, 0]]
    assert np.array_equal(stand_in.shifted(image, 0, 0), image)


def test_install_wraps_load_mnist_and_records_each_call(monkeypatch, offline):
    calls = []

    def fake_load_mnist(*args, **kwargs):
        calls.append((args, kwargs))
        return offline

    monkeypatch.setattr(data_module, "load_mnist", fake_load_mnist)
    monkeypatch.setattr(stand_in, "LOADED", [])
    try:
        stand_in.install(full=True)
        data = vae_tutorial.load_mnist(flatten=True)  # the lazy export finds the wrapper
        assert calls == [((), {"flatten": True})]
        assert data.source == "keras" and data.x_train.shape == (60_000, 28, 28)
        assert stand_in.LOADED == [("keras", 60_000, 10_000)]
    finally:
        vae_tutorial.__dict__.pop("load_mnist", None)  # re-resolve to the restored loader


def test_install_without_full_only_records(monkeypatch, offline):
    monkeypatch.setattr(data_module, "load_mnist", lambda *args, **kwargs: offline)
    monkeypatch.setattr(stand_in, "LOADED", [])
    try:
        stand_in.install(full=False)
        assert vae_tutorial.load_mnist() is offline
        assert stand_in.LOADED == [("offline", 4_000, 1_000)]
    finally:
        vae_tutorial.__dict__.pop("load_mnist", None)


def test_tile_refuses_to_repeat_a_shift(offline):
    with pytest.raises(ValueError, match="need more than 25 shifted copies"):
        stand_in.tile(offline.x_test[:10], offline.y_test[:10], 251, np.random.default_rng(0))


def test_install_refuses_anything_but_the_offline_subset(monkeypatch, full):
    monkeypatch.setattr(data_module, "load_mnist", lambda *args, **kwargs: full)
    try:
        stand_in.install(full=True)
        with pytest.raises(RuntimeError, match="expected the offline subset"):
            data_module.load_mnist()
    finally:
        vae_tutorial.__dict__.pop("load_mnist", None)


def test_kernel_environment_writes_the_hook_and_restores_the_environment(monkeypatch):
    monkeypatch.setenv("VAE_TUTORIAL_CACHE_DIR", "/somewhere")
    monkeypatch.delenv("IPYTHONDIR", raising=False)
    with notebooks_benchmark.kernel_environment("full-size"):
        startup = Path(os.environ["IPYTHONDIR"], "profile_default", "startup")
        (script,) = startup.iterdir()
        text = script.read_text()
        assert "module.install(full=True)" in text and str(stand_in.__file__) in text
        cache = Path(os.environ["VAE_TUTORIAL_CACHE_DIR"])
        assert cache.is_dir() and not any(cache.glob("models"))  # an empty model cache
    assert os.environ["VAE_TUTORIAL_CACHE_DIR"] == "/somewhere"
    assert "IPYTHONDIR" not in os.environ and not startup.exists()
    with notebooks_benchmark.kernel_environment("offline"):
        (script,) = Path(os.environ["IPYTHONDIR"], "profile_default", "startup").iterdir()
        assert "module.install(full=False)" in script.read_text()
    with pytest.raises(ValueError, match="mode must be one of offline, full-size"):
        with notebooks_benchmark.kernel_environment("full"):
            pass


def test_budget_verdicts_and_data_column():
    verdict = notebooks_benchmark.verdict
    assert verdict("offline", 59.9, 1024.0) == "yes"
    assert verdict("offline", 61.0, 1100.0) == "NO (61 s > 60 s; 1100 MiB > 1024 MiB)"
    assert verdict("full-size", 150.0, 1500.0) == "yes"  # time is the full-size budget
    assert verdict("full-size", 200.0, 900.0) == "NO (200 s > 180 s)"
    assert verdict("offline", 85.0, 1000.0, "07_beta.ipynb") == "yes"  # 90 s from 07 on
    assert verdict("offline", 85.0, 1000.0, "06_latent.ipynb") == "NO (85 s > 60 s)"
    assert verdict("offline", 95.0, 1000.0, "10_debug.ipynb") == "NO (95 s > 90 s)"
    describe = notebooks_benchmark.describe_data
    assert describe([("keras", 60_000, 10_000)]) == "keras 60000/10000"
    assert describe([]) == "-"
    with pytest.raises(RuntimeError, match="start-up hook did not run"):
        describe(None)
