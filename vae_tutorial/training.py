"""Train once, reuse later: :func:`train_or_load_vae` keeps trained VAEs in a cache keyed by
what made them (notebook 05), so later notebooks do not train the same model again.
:class:`KLWarmup` (notebook 07) is a KL warm-up callback for it and for ``fit``.
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


class KLWarmup(keras.callbacks.Callback):
    """KL warm-up (KL annealing, Bowman et al. 2016): the KL weight rises linearly from 0,
    so early on the encoder may put information into z before the KL term charges for it.

    At the start of epoch e (0, 1, 2, ...) it sets ``model.beta`` to ``model.target_beta *``
    :meth:`weight` ``(e)``, logs it as ``"beta"`` (so ``fit``'s history shows it), and sets
    ``model.beta`` back to ``model.target_beta`` when training ends. ``epochs``: a positive
    int. Per epoch, not per step: a VAE runs ``STEPS_PER_EXECUTION`` steps per call, and
    callbacks see batches only between calls. Introduced in notebook 07.
    """

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = check_int(epochs, "epochs")

    def get_config(self) -> dict:
        """What the schedule depends on (part of ``train_or_load_vae``'s cache key)."""
        return {"epochs": self.epochs}

    def weight(self, epoch: int) -> float:
        """The fraction of the model's beta used in ``epoch`` (0-based): min(1, epoch / epochs),
        0 in the first epoch, 1 from epoch ``epochs`` on."""
        return min(1.0, check_int(epoch, "epoch", minimum=0) / self.epochs)

    def on_train_begin(self, logs=None):
        if not isinstance(self.model, VAE):
            raise TypeError(f"KLWarmup works on a vae_tutorial VAE (it sets model.beta); got a "
                            f"{type(self.model).__name__}.")

    def on_epoch_begin(self, epoch, logs=None):
        self.model.beta.assign(self.model.target_beta * self.weight(epoch))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["beta"] = float(self.model.beta.numpy())

    def on_train_end(self, logs=None):
        self.model.beta.assign(self.model.target_beta)


def _callback_configs(callbacks) -> list[dict]:
    """Each callback's class and configuration, for the cache key; refuses what has none."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of callbacks, such as [KLWarmup(epochs=10)]; "
                        f"got {type(callbacks).__name__}.")
    configs = []
    for i, callback in enumerate(callbacks):
        if not isinstance(callback, keras.callbacks.Callback):
            raise TypeError(f"callbacks[{i}] must be a keras callback; got "
                            f"{type(callback).__name__}.")
        if not hasattr(callback, "get_config"):
            raise TypeError(f"callbacks[{i}] ({type(callback).__name__}) has no get_config(), so "
                            "its settings cannot be part of the cache key. Use a callback that "
                            "defines get_config() (such as KLWarmup), or train with model.fit.")
        config = callback.get_config()
        try:
            json.dumps(config, sort_keys=True)
        except TypeError as exc:
            raise TypeError(f"callbacks[{i}].get_config() must return JSON-able settings; "
                            f"{exc}.") from None
        kind = type(callback)
        configs.append({"class": f"{kind.__module__}.{kind.__qualname__}", "config": config})
    return configs


def training_key(model: VAE, data: MnistData, *, epochs: int, batch_size: int,
                 learning_rate: float, callbacks=None) -> tuple[str, dict]:
    """The cache key (16 hex digits) and the JSON-able description it is the SHA-256 of:
    all that shapes the trained model, so that any change trains a new one."""
    description = {
        "model": model.get_config(),
        "training": {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
                     "optimizer": "adam", "callbacks": _callback_configs(callbacks)},
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
                      callbacks=None, cache_dir: str | os.PathLike | None = None):
    """Return ``(model, history)``: a cached trained VAE, or a freshly trained and cached one.

    Either way the model comes compiled with ``Adam(learning_rate)``, ready for
    ``evaluate`` (a loaded model's optimizer starts afresh if you train it further), and
    gives the same ``evaluate`` numbers as the model it was trained as.

    ``name`` is a short file-name-safe label (for example ``"vae-05"``). ``build`` is a
    function with no arguments returning an uncompiled :class:`VAE` (for example
    ``lambda: build_vae(seed=0)``); it is called every time, to compute the key, so pass
    the function, not a model it built. ``data`` is what :func:`~vae_tutorial.data.load_mnist`
    returned: trained on ``data.x_train``, validated on ``data.x_test``. ``epochs``,
    ``batch_size`` and ``learning_rate`` (Adam's) are part of the key (:func:`training_key`).
    ``callbacks``: a list of Keras callbacks for ``fit``, each with a ``get_config()`` (such
    as :class:`KLWarmup`). ``cache_dir`` is the cache's folder; default
    ``<vae_tutorial.data.cache_dir()>/models``. An entry is ``<name>-<key>.keras`` (the
    model) and ``<name>-<key>.json`` (the key's description, the model file's SHA-256 and
    the history), each written atomically, the model last; a missing, corrupt or
    mismatched entry is reported in one line and retrained, never used.

    ``history`` maps each metric (``loss``, ``reconstruction``, ``kl`` and their ``val_``
    twins, nats per image; and whatever the callbacks log, such as :class:`KLWarmup`'s
    ``beta``) to its per-epoch values, whether trained now or loaded.
    Introduced in notebook 05; ``callbacks`` added in notebook 07.
    """
    if not isinstance(name, str) or not name or name[0] == "." or "/" in name or "\\" in name:
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
    _callback_configs(callbacks)  # checked before anything is built or written
    folder = Path(cache_dir) if cache_dir is not None else data_cache_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)

    model = build()
    if not isinstance(model, VAE):
        raise TypeError(f"build() must return a vae_tutorial VAE; got {type(model).__name__}.")
    key, description = training_key(model, data, epochs=epochs, batch_size=batch_size,
                                    learning_rate=learning_rate, callbacks=callbacks)
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
        history = model.fit(train, epochs=epochs, batch_size=batch_size, validation_data=test,
                            callbacks=list(callbacks or []), verbose=0).history
        history = {k: [float(v) for v in values] for k, values in history.items()}
    # A fresh optimizer either way, so trained, loaded and cached models are alike.
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate))
    if cached is None:  # both files complete before the meta, then the model, go into place
        with atomic_write(model_path) as tmp, atomic_write(meta_path) as meta_tmp:
            model.save(tmp)
            meta = {"description": description, "model_sha256": file_sha256(tmp),
                    "history": history}
            meta_tmp.write_text(json.dumps(meta, default=str))
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
        history = {k: [float(v) for v in values] for k, values in meta["history"].items()}
        return load_vae(model_path), history
    except Exception as exc:  # any fault: say so, retrain, overwrite
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        print(f"vae_tutorial: not using the cached model {model_path.name} ({reason}); "
              "training it again.", file=sys.stderr)
        return None
