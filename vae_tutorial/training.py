"""Train once, reuse later: a cache of trained VAEs keyed by what made them.

Notebook 05 trains a VAE; later notebooks must not train the same model again. The cache
key is a SHA-256 over the model's configuration (architecture, binarization, seed), the
training settings (epochs, batch size, learning rate) and the data (its source and
fingerprints of the training and test images), so any change trains a new model. Each
entry is two files under ``<cache_dir>/models/``: ``<name>-<key>.keras`` (the model) and
``<name>-<key>.json`` (the key's inputs, the model file's SHA-256, and the training
history). Both are written atomically (``files.atomic_write``), the model first; a
missing, corrupt or mismatched entry is reported in one line and retrained, never used.
Introduced in notebook 05.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from .checks import check_int, check_learning_rate
from .data import MnistData, file_sha256
from .data import cache_dir as data_cache_dir
from .files import atomic_write
from .vae import VAE, load_vae

# Part of every cache key: bump it when a change to the package changes what training
# produces, so caches made before are not taken for the new models. 2: evaluation noise
# restarts at every evaluate(), and fit shuffles in an order seeded by the model's seed.
TRAINING_VERSION = 2


def _fingerprint(images: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(images, dtype=np.float32).tobytes()).hexdigest()


def training_key(model: VAE, data: MnistData, *, epochs: int, batch_size: int,
                 learning_rate: float) -> tuple[str, dict]:
    """The cache key (16 hex digits) and the JSON-able description it hashes."""
    description = {
        "model": model.get_config(),
        "training": {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
                     "optimizer": "adam"},
        # The test images too: the history's val_ metrics are computed on them.
        "data": {"source": data.source, "train_shape": list(data.x_train.shape),
                 "train_sha256": _fingerprint(data.x_train),
                 "test_shape": list(data.x_test.shape), "test_sha256": _fingerprint(data.x_test)},
        "keras": keras.__version__,
        "training_version": TRAINING_VERSION,
    }
    if getattr(model, "needs_labels", False):  # notebook 08: the labels shape such a model too
        description["data"]["labels_sha256"] = _fingerprint(np.concatenate([data.y_train,
                                                                            data.y_test]))
    text = json.dumps(description, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16], json.loads(text)


def train_or_load_vae(name: str, build: Callable[[], VAE], data: MnistData, *, epochs: int,
                      batch_size: int = 128, learning_rate: float = 1e-3,
                      cache_dir: str | os.PathLike | None = None):
    """Return ``(model, history)``: a cached trained VAE, or a freshly trained and cached one.

    Either way the model comes compiled with ``Adam(learning_rate)``, ready for
    ``evaluate`` (a loaded model's optimizer starts afresh if you train it further), and
    gives the same ``evaluate`` numbers as the model it was trained as.

    ``name`` is a short file-name-safe label (for example ``"vae-05"``). ``build`` is a
    function with no arguments returning an uncompiled :class:`VAE` (for example
    ``lambda: build_vae(seed=0)``); it is called every time, to compute the key, so pass
    the function, not a model it built. ``data`` is what :func:`~vae_tutorial.data.load_mnist`
    returned: trained on ``data.x_train``, validated on ``data.x_test``. ``epochs``,
    ``batch_size`` and ``learning_rate`` (Adam's) are part of the key. ``cache_dir`` is the
    cache's folder; default ``<vae_tutorial.data.cache_dir()>/models``.

    ``history`` maps each metric (``loss``, ``reconstruction``, ``kl`` and their ``val_``
    twins, nats per image) to its per-epoch values, whether trained now or loaded.
    Introduced in notebook 05.
    """
    if (not isinstance(name, str) or not name or any(ch in name for ch in "/\\")
            or name.startswith(".")):
        raise ValueError(f"name must be a plain file-name label such as 'vae-05'; got {name!r}.")
    if isinstance(build, keras.Model) or not callable(build):
        raise TypeError(f"build must be a function that returns a new VAE, such as "
                        f"lambda: build_vae(seed=0); got a {type(build).__name__}. Pass the "
                        "function itself, not a model it built.")
    if not isinstance(data, MnistData):
        raise TypeError(f"data must be what load_mnist() returns (it holds the training and "
                        f"test images and their source); got a {type(data).__name__}.")
    epochs = check_int(epochs, "epochs")
    batch_size = check_int(batch_size, "batch_size")
    learning_rate = check_learning_rate(learning_rate)
    folder = Path(cache_dir) if cache_dir is not None else data_cache_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)

    model = build()
    if not isinstance(model, VAE):
        raise TypeError(f"build() must return a vae_tutorial VAE; got {type(model).__name__}.")
    key, description = training_key(model, data, epochs=epochs, batch_size=batch_size,
                                    learning_rate=learning_rate)
    model_path = folder / f"{name}-{key}.keras"
    meta_path = folder / f"{name}-{key}.json"

    cached = _load_entry(model_path, meta_path, description)
    if cached is not None:
        model, history = cached
    else:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate))
        # Notebook 08: a model that needs labels (a ConditionalVAE) trains on (images, labels).
        labelled = getattr(model, "needs_labels", False)
        train = (data.x_train, data.y_train) if labelled else data.x_train
        test = (data.x_test, data.y_test) if labelled else data.x_test
        history = model.fit(train, epochs=epochs, batch_size=batch_size,
                            validation_data=test, verbose=0).history
        history = {k: [float(v) for v in values] for k, values in history.items()}
    # Both paths return (and the cache stores) the weights with a fresh optimizer: the
    # training run's Adam state is not kept, so trained and loaded models are alike.
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate))
    if cached is None:
        with atomic_write(model_path) as tmp:
            model.save(tmp)
        try:
            meta = {"description": description, "model_sha256": file_sha256(model_path),
                    "history": history}
            with atomic_write(meta_path) as tmp:
                tmp.write_text(json.dumps(meta, default=str))
        except BaseException:  # no model file without its meta file
            model_path.unlink(missing_ok=True)
            raise
    return model, history


def _load_entry(model_path: Path, meta_path: Path, description: dict):
    """The cached ``(model, history)`` if the entry is whole and matches; else None."""
    if not model_path.exists() and not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        if meta["description"] != description:
            raise ValueError("its recorded configuration differs from the requested one")
        if file_sha256(model_path) != meta["model_sha256"]:
            raise ValueError("the model file does not match its recorded SHA-256 (corrupt)")
        model = load_vae(model_path)
        history = {k: [float(v) for v in values] for k, values in meta["history"].items()}
    except Exception as exc:  # any fault: say so, retrain, overwrite
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        print(f"vae_tutorial: not using the cached model {model_path.name} ({reason}); "
              "training it again.", file=sys.stderr)
        return None
    return model, history
