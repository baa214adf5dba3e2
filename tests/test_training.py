"""Unit tests for vae_tutorial.training: the train-once, load-later cache of VAEs.

One test module fixture really trains a tiny VAE (one hidden layer of 8 units, 2 latent
dimensions, 64 synthetic images); every other test replaces ``VAE.fit`` by a fake that
records its arguments and returns a fixed history, so the cache logic (keys, corrupt
entries, atomic writes, argument checks) is tested in milliseconds per case.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from vae_tutorial import training
from vae_tutorial.data import CACHE_ENV, MnistData
from vae_tutorial.training import train_or_load_vae, training_key
from vae_tutorial.vae import VAE, build_encoder, build_vae

# Keras converts TF variables with np.array (saving, get_weights), which NumPy 2 flags.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
NAME = "vae-test"
FAKE_HISTORY = {"loss": [3.5, 3.25], "reconstruction": [3.0, 2.75], "kl": [0.5, 0.5],
                "val_loss": [3.75, 3.5], "val_reconstruction": [3.25, 3.0],
                "val_kl": [0.5, 0.5]}


def make_data(seed: int = 0, n_train: int = 64, n_test: int = 32,
              source: str = "synthetic") -> MnistData:
    rng = np.random.default_rng(seed)
    return MnistData(
        x_train=rng.uniform(size=(n_train, 784)).astype(np.float32),
        y_train=rng.integers(0, 10, n_train),
        x_test=rng.uniform(size=(n_test, 784)).astype(np.float32),
        y_test=rng.integers(0, 10, n_test),
        source=source,
        description="synthetic images for the tests",
    )


DATA = make_data()
MODEL = {"latent_dim": 2, "hidden_units": (8,), "seed": 0, "binarization": "dynamic"}
SETTINGS = {"epochs": 2, "batch_size": 32, "learning_rate": 1e-3}


def builder(**overrides):
    return lambda: build_vae(**{**MODEL, **overrides})


def run(cache, *, name=NAME, build=None, data=DATA, **settings):
    return train_or_load_vae(name, build or builder(), data, cache_dir=cache,
                             **{**SETTINGS, **settings})


def entry_files(cache: Path, name: str = NAME) -> tuple[Path, Path]:
    """The one (model, meta) pair named ``name`` in ``cache``."""
    models = sorted(cache.glob(f"{name}-*.keras"))
    assert len(models) == 1, models
    return models[0], models[0].with_suffix(".json")


def listing(cache: Path) -> set[str]:
    return set(os.listdir(cache)) if cache.exists() else set()  # hidden files included


@pytest.fixture
def fake_fit(monkeypatch):
    """Replace VAE.fit by a fast fake; the list holds one record per call."""
    calls = []

    def fit(self, x=None, y=None, *args, **kwargs):
        calls.append({"x": x, "y": y, "args": args, "kwargs": kwargs,
                      "learning_rate": float(self.optimizer.learning_rate)})
        return SimpleNamespace(history={k: [np.float32(v) for v in values]
                                        for k, values in FAKE_HISTORY.items()})

    monkeypatch.setattr(VAE, "fit", fit)
    return calls


@pytest.fixture
def no_fit(monkeypatch):
    def fit(self, *args, **kwargs):
        raise AssertionError("fit was called, but the model should come from the cache")

    monkeypatch.setattr(VAE, "fit", fit)


# --------------------------------------------------------------------------- real training


@pytest.fixture(scope="module")
def real_entry(tmp_path_factory):
    """A cache with one really trained entry, and what the first call returned."""
    cache = tmp_path_factory.mktemp("real-cache")
    keras.utils.set_random_seed(0)
    model, history = run(cache)
    files = {path.name: path.read_bytes() for path in cache.iterdir()}
    return cache, model, history, files


def test_first_call_trains_and_writes_one_entry(real_entry):
    cache, model, history, files = real_entry
    assert isinstance(model, VAE)
    model_path, meta_path = entry_files(cache)
    assert set(files) == {model_path.name, meta_path.name}
    assert set(history) == {"loss", "reconstruction", "kl",
                            "val_loss", "val_reconstruction", "val_kl"}
    for values in history.values():
        assert len(values) == SETTINGS["epochs"]
        assert all(isinstance(v, float) and np.isfinite(v) for v in values)
    meta = json.loads(meta_path.read_text())
    assert meta["history"] == history
    assert meta["model_sha256"] == training.file_sha256(model_path)


def test_second_call_loads_without_training(real_entry, no_fit, capsys):
    cache, model, history, files = real_entry
    loaded, loaded_history = run(cache)
    assert isinstance(loaded, VAE) and loaded is not model
    assert loaded_history == history
    assert capsys.readouterr().err == ""
    assert {path.name: path.read_bytes() for path in cache.iterdir()} == files  # untouched

    x = DATA.x_test[:8]
    z = np.random.default_rng(0).normal(size=(4, 2))
    for a, b in zip(model.encode(x), loaded.encode(x), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.decode(z), loaded.decode(z))
    np.testing.assert_array_equal(model.reconstruct(x), loaded.reconstruct(x))
    assert (loaded.binarization, loaded.latent_dim, loaded.seed) == ("dynamic", 2, 0)


def test_trained_and_loaded_models_come_compiled_and_evaluate_the_same(real_entry, no_fit):
    """Notebook 05 printed 116.3 nats trained and 115.8 loaded: evaluation noise came from
    generator states that training had advanced. Now one model gives one number."""
    cache, model, _, _ = real_entry
    loaded, _ = run(cache)
    for m in (model, loaded):
        assert m.compiled and isinstance(m.optimizer, keras.optimizers.Adam)
        assert int(m.optimizer.iterations) == 0  # a fresh optimizer either way
    saved = next(cache.glob("*.keras"))
    model.save(cache / "again.keras")  # the cache stores the model as returned
    assert (cache / "again.keras").stat().st_size == saved.stat().st_size
    trained_logs = model.evaluate(DATA.x_test, batch_size=16, verbose=0, return_dict=True)
    loaded_logs = loaded.evaluate(DATA.x_test, batch_size=16, verbose=0, return_dict=True)
    assert trained_logs == loaded_logs
    assert model.evaluate(DATA.x_test, batch_size=16, verbose=0, return_dict=True) == trained_logs


_FRESH_PROCESS = """
import json, sys
import numpy as np
from tests.test_training import DATA, builder
from vae_tutorial import train_or_load_vae
model, _ = train_or_load_vae("fresh", builder(), DATA, cache_dir=sys.argv[1], epochs=2,
                             batch_size=32)
print(json.dumps(model.evaluate(DATA.x_test, batch_size=16, verbose=0, return_dict=True)))
"""


def test_a_model_loaded_in_a_fresh_process_evaluates_as_it_did_when_trained(tmp_path):
    """Train in one fresh process, load in another: the same evaluate numbers."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "TF_CPP_MIN_LOG_LEVEL": "3"}
    outputs = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", _FRESH_PROCESS, str(tmp_path)], cwd=root,
                              env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        outputs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert len(list(tmp_path.glob("fresh-*.keras"))) == 1  # trained once, loaded once
    assert outputs[0] == outputs[1]


# --------------------------------------------------------------------------- wiring


def test_training_uses_the_requested_settings(tmp_path, fake_fit):
    model, history = run(tmp_path, epochs=3, batch_size=16, learning_rate=2e-3)
    (call,) = fake_fit
    assert call["x"] is DATA.x_train and call["y"] is None
    assert call["kwargs"]["validation_data"] is DATA.x_test
    assert (call["kwargs"]["epochs"], call["kwargs"]["batch_size"]) == (3, 16)
    assert call["kwargs"]["verbose"] == 0  # notebooks print their own summary
    assert call["learning_rate"] == pytest.approx(2e-3)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert history == FAKE_HISTORY and all(
        type(v) is float for values in history.values() for v in values)


def test_default_cache_dir_is_models_under_the_data_cache(tmp_path, monkeypatch, fake_fit):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env-cache"))
    train_or_load_vae(NAME, builder(), DATA, **SETTINGS)
    entry_files(tmp_path / "env-cache" / "models")


# --------------------------------------------------------------------------- keys


VARIANTS = {
    "latent size": {"build": builder(latent_dim=3)},
    "hidden units": {"build": builder(hidden_units=(16,))},
    "two hidden layers": {"build": builder(hidden_units=(8, 8))},
    "seed": {"build": builder(seed=1)},
    "no seed": {"build": builder(seed=None)},
    "binarization": {"build": builder(binarization="static")},
    "epochs": {"epochs": 3},
    "batch size": {"batch_size": 16},
    "learning rate": {"learning_rate": 2e-3},
    "other training images": {"data": make_data(seed=1)},
    "more training images": {"data": make_data(n_train=65)},
    "other test images": {"data": make_data(n_test=33)},
    "data source": {"data": make_data(source="offline")},
}


def _one_pixel_changed(data: MnistData, field: str) -> MnistData:
    images = getattr(data, field).copy()
    images[5, 300] = np.float32(images[5, 300] + 1 / 255)
    return MnistData(**{**{f: getattr(data, f) for f in
                           ("x_train", "y_train", "x_test", "y_test", "source", "description")},
                        field: images})


VARIANTS["one training pixel"] = {"data": _one_pixel_changed(DATA, "x_train")}
VARIANTS["one test pixel"] = {"data": _one_pixel_changed(DATA, "x_test")}


def _key(build=None, data=DATA, **settings):
    model = (build or builder())()
    return training_key(model, data, **{**SETTINGS, **settings})[0]


def test_the_key_is_stable_and_ignores_what_does_not_shape_the_model():
    base = _key()
    assert len(base) == 16 and int(base, 16) >= 0
    assert _key() == base  # a second build (other random initial weights): same key
    copy = MnistData(DATA.x_train.copy(), DATA.y_train[::-1].copy(), DATA.x_test.copy(),
                     DATA.y_test.copy(), DATA.source, "another description")
    assert _key(data=copy) == base  # same images: labels and description are not used


def test_every_change_gives_its_own_key():
    keys = {case: _key(**variant) for case, variant in VARIANTS.items()}
    keys["base"] = _key()
    duplicates = {k for k in keys.values() if list(keys.values()).count(k) > 1}
    assert not duplicates, {case: k for case, k in keys.items() if k in duplicates}


@pytest.mark.parametrize("case", VARIANTS)
def test_a_change_trains_a_new_entry_and_keeps_the_old(tmp_path, fake_fit, case):
    run(tmp_path)
    first = listing(tmp_path)
    run(tmp_path, **VARIANTS[case])
    assert len(fake_fit) == 2
    assert first < listing(tmp_path) and len(listing(tmp_path)) == 4
    run(tmp_path)  # the original entry is still there and still used
    assert len(fake_fit) == 2


def test_names_keep_entries_apart(tmp_path, fake_fit):
    run(tmp_path, name="first")
    run(tmp_path, name="second")
    assert len(fake_fit) == 2
    entry_files(tmp_path, "first")
    entry_files(tmp_path, "second")


# --------------------------------------------------------------------------- damaged entries


def _truncate(model_path, meta_path):
    data = model_path.read_bytes()
    model_path.write_bytes(data[: len(data) // 2])


def _flip_byte(model_path, meta_path):
    data = bytearray(model_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_path.write_bytes(bytes(data))


def _edit_meta(edit):
    def damage(model_path, meta_path):
        meta = json.loads(meta_path.read_text())
        edit(meta, model_path)
        meta_path.write_text(json.dumps(meta))
    return damage


def _truncate_and_record(meta, model_path):
    """A damaged model file whose recorded checksum matches: load_vae itself must fail."""
    _truncate(model_path, None)
    meta["model_sha256"] = training.file_sha256(model_path)


DAMAGES = {
    "truncated model": _truncate,
    "flipped byte": _flip_byte,
    "model missing": lambda model_path, meta_path: model_path.unlink(),
    "meta missing": lambda model_path, meta_path: meta_path.unlink(),
    "meta not JSON": lambda model_path, meta_path: meta_path.write_text("{not json"),
    "meta empty": lambda model_path, meta_path: meta_path.write_text(""),
    "meta a list": lambda model_path, meta_path: meta_path.write_text("[]"),
    "meta of another configuration": _edit_meta(
        lambda meta, _: meta["description"]["training"].update(epochs=99)),
    "meta of another keras": _edit_meta(lambda meta, _: meta["description"].update(keras="0")),
    "meta without checksum": _edit_meta(lambda meta, _: meta.pop("model_sha256")),
    "meta with wrong checksum": _edit_meta(lambda meta, _: meta.update(model_sha256="0" * 64)),
    "meta without history": _edit_meta(lambda meta, _: meta.pop("history")),
    "meta with bad history": _edit_meta(lambda meta, _: meta.update(history={"loss": "x"})),
    "unreadable model, matching checksum": _edit_meta(_truncate_and_record),
}


@pytest.mark.parametrize("case", DAMAGES)
def test_a_damaged_entry_is_reported_once_and_retrained(tmp_path, fake_fit, capsys, case):
    run(tmp_path)
    model_path, meta_path = entry_files(tmp_path)
    capsys.readouterr()
    DAMAGES[case](model_path, meta_path)

    model, history = run(tmp_path)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert model_path.name in err[0] and "training it again" in err[0]
    assert len(fake_fit) == 2
    assert isinstance(model, VAE) and history == FAKE_HISTORY
    assert listing(tmp_path) == {model_path.name, meta_path.name}

    model, history = run(tmp_path)  # the rewritten entry loads, silently
    assert len(fake_fit) == 2 and capsys.readouterr().err == ""
    assert history == FAKE_HISTORY


# --------------------------------------------------------------------------- atomic writes


def test_success_leaves_exactly_the_two_entry_files(tmp_path, fake_fit):
    run(tmp_path)
    model_path, meta_path = entry_files(tmp_path)
    assert listing(tmp_path) == {model_path.name, meta_path.name}


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt(),
                                   FloatingPointError("loss became nan in epoch 1")])
def test_a_failure_during_training_leaves_nothing(tmp_path, monkeypatch, error):
    def fit(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(VAE, "fit", fit)
    with pytest.raises(type(error)):
        run(tmp_path)
    assert listing(tmp_path) == set()


def test_a_failure_while_saving_the_model_leaves_nothing(tmp_path, monkeypatch, fake_fit):
    def save(self, path, *args, **kwargs):
        Path(path).write_bytes(b"half a model")
        raise OSError("disk full")

    monkeypatch.setattr(VAE, "save", save)
    with pytest.raises(OSError, match="disk full"):
        run(tmp_path)
    assert listing(tmp_path) == set()


def test_a_failure_while_writing_the_meta_leaves_nothing(tmp_path, monkeypatch, fake_fit):
    def broken(path):
        raise OSError("disk full")

    monkeypatch.setattr(training, "file_sha256", broken)
    with pytest.raises(OSError, match="disk full"):
        run(tmp_path)
    assert listing(tmp_path) == set()


def test_an_interrupted_retraining_leaves_no_temporary_files(tmp_path, fake_fit, monkeypatch):
    """Interrupting the retraining of a damaged entry leaves no temporary files, and the
    next call finds the damage again (instead of using it) and retrains."""
    run(tmp_path)
    model_path, meta_path = entry_files(tmp_path)
    _flip_byte(model_path, meta_path)

    def fit(self, *args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(VAE, "fit", fit)
        with pytest.raises(KeyboardInterrupt):
            run(tmp_path)
    assert listing(tmp_path) == {model_path.name, meta_path.name}
    run(tmp_path)
    assert len(fake_fit) == 2


# --------------------------------------------------------------------------- argument checks


def _never_built():
    raise AssertionError("build() must not be called when the arguments are bad")


BAD_ARGUMENTS = {
    "name with slash": ({"name": "a/b"}, "name"),
    "name with backslash": ({"name": "a\\b"}, "name"),
    "empty name": ({"name": ""}, "name"),
    "hidden name": ({"name": ".x"}, "name"),
    "name None": ({"name": None}, "name"),
    "name not a string": ({"name": 5}, "name"),
    "zero epochs": ({"epochs": 0}, "epochs"),
    "fractional epochs": ({"epochs": 1.5}, "epochs"),
    "negative epochs": ({"epochs": -1}, "epochs"),
    "epochs True": ({"epochs": True}, "epochs"),
    "zero batch size": ({"batch_size": 0}, "batch_size"),
    "float batch size": ({"batch_size": 32.0}, "batch_size"),
    "zero learning rate": ({"learning_rate": 0}, "learning_rate"),
    "negative learning rate": ({"learning_rate": -1e-3}, "learning_rate"),
    "learning rate 1": ({"learning_rate": 1.0}, "learning_rate"),
    "NaN learning rate": ({"learning_rate": float("nan")}, "learning_rate"),
    "string learning rate": ({"learning_rate": "0.001"}, "learning_rate"),
}
BAD_TYPES = {
    "a model instead of its builder": ({"build": build_vae(2, (8,), seed=0)}, "build.*function"),
    "not callable": ({"build": 3}, "build.*function"),
    "arrays instead of the data object": ({"data": DATA.x_train}, "data.*load_mnist"),
    "a tuple of arrays": ({"data": (DATA.x_train, DATA.y_train)}, "data.*load_mnist"),
}


@pytest.mark.parametrize("case", BAD_TYPES)
def test_wrong_argument_types_are_named_with_the_fix(tmp_path, case):
    overrides, message = BAD_TYPES[case]
    with pytest.raises(TypeError, match=message):
        run(tmp_path / "cache", **overrides)
    assert not (tmp_path / "cache").exists()


def test_numpy_scalars_are_accepted_and_keyed_like_python_numbers(tmp_path, fake_fit):
    run(tmp_path, epochs=np.int64(2), batch_size=np.int32(32), learning_rate=np.float32(1e-3))
    run(tmp_path, epochs=2, batch_size=32, learning_rate=float(np.float32(1e-3)))
    assert len(fake_fit) == 1  # the second call found the first one's entry


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_arguments_raise_before_building_or_writing(tmp_path, case):
    overrides, argument = BAD_ARGUMENTS[case]
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match=argument):
        run(cache, build=_never_built, **overrides)
    assert not cache.exists()


@pytest.mark.parametrize("build", [
    lambda: None,
    lambda: keras.Sequential([keras.Input((784,)), keras.layers.Dense(2)]),
    lambda: build_encoder(2, (8,)),
], ids=["None", "Sequential", "encoder"])
def test_build_must_return_a_vae(tmp_path, build):
    with pytest.raises(TypeError, match="VAE"):
        run(tmp_path, build=build)
    assert listing(tmp_path) == set()


def test_a_copied_cache_folder_is_used_as_is(real_entry, tmp_path, no_fit):
    """A copy of a cache folder (for example a course image) is used as is."""
    cache = real_entry[0]
    shutil.copytree(cache, tmp_path / "copy")
    _, history = run(tmp_path / "copy")
    assert history == real_entry[2]
