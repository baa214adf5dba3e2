"""Tests of ``python -m vae_tutorial.prepare_room`` (``make prepare-room``) with tiny fake
notebooks and a temporary cache folder: no network, no training.

A fake notebook stands in for a course notebook: it writes a model and its ``.json`` into
``$VAE_TUTORIAL_CACHE_DIR/models`` as ``train_or_load_vae`` does, a file into its working
folder, and checks the data mode it was given. The download step is replaced by a stub
(the real one is ``load_mnist(source="keras")``, tested in test_data.py).
"""

from __future__ import annotations

import subprocess
import sys
import types

import nbformat
import numpy as np
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from vae_tutorial import data, prepare_room

MODEL_CELL = """\
import json, os, pathlib
assert os.environ["VAE_TUTORIAL_OFFLINE"] == {offline!r}, os.environ["VAE_TUTORIAL_OFFLINE"]
folder = pathlib.Path(os.environ["VAE_TUTORIAL_CACHE_DIR"]) / "models"
folder.mkdir(parents=True, exist_ok=True)
(folder / "vae-{tag}-0123456789abcdef.keras").write_bytes(b"weights" * 1000)
meta = {{"description": {{"data": {{"source": "offline", "train_shape": [4000, 784]}},
                          "training": {{"epochs": 3}}}}}}
(folder / "vae-{tag}-0123456789abcdef.json").write_text(json.dumps(meta))
pathlib.Path("written-by-the-notebook.txt").write_text("scratch")
"""


def fake_notebook(folder, name: str, offline: str = "1", fail: bool = False):
    cells = [new_markdown_cell(f"# {name}"),
             new_code_cell(MODEL_CELL.format(offline=offline, tag=name[:2]))]
    if fail:
        cells.append(new_code_cell("1 / 0"))
    path = folder / f"{name}.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_prepare_offline_fills_the_cache_and_leaves_the_notebooks_alone(tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    paths = [fake_notebook(notebooks, "05_vae"), fake_notebook(notebooks, "06_latent")]
    before = {path: path.read_bytes() for path in paths}
    cache = tmp_path / "cache"

    assert prepare_room.main([*map(str, paths), "--cache-dir", str(cache), "--offline"]) == 0

    out = capsys.readouterr().out
    assert "offline room: no download" in out
    assert "05_vae.ipynb: ran in" in out
    assert "new in the cache: models/vae-05-0123456789abcdef.keras" in out
    assert "models/vae-06-0123456789abcdef.keras" in out
    assert "trained on offline data (4000 images), 3 epochs" in out
    assert "cache folder" in out and "2 file(s)" in out
    assert "VAE_TUTORIAL_CACHE_DIR" in out and "VAE_TUTORIAL_OFFLINE=1" in out
    assert {path: path.read_bytes() for path in paths} == before  # outputs untouched
    assert sorted(p.name for p in notebooks.iterdir()) == ["05_vae.ipynb", "06_latent.ipynb"]

    # A second run finds everything cached.
    assert prepare_room.main([str(paths[0]), "--cache-dir", str(cache), "--offline"]) == 0
    assert "new in the cache: nothing" in capsys.readouterr().out


def test_prepare_online_downloads_first_and_runs_the_kernels_online(tmp_path, capsys,
                                                                   monkeypatch):
    monkeypatch.setenv(data.OFFLINE_ENV, "0")
    calls = []

    def fake_load_mnist(source, cache_dir):
        calls.append((source, cache_dir))
        return types.SimpleNamespace(x_train=np.zeros((60000, 1)), x_test=np.zeros((10000, 1)))

    monkeypatch.setattr(data, "load_mnist", fake_load_mnist)
    path = fake_notebook(tmp_path, "05_vae", offline="0")
    cache = tmp_path / "cache"
    assert prepare_room.main([str(path), "--cache-dir", str(cache)]) == 0
    assert calls == [("keras", cache)]
    out = capsys.readouterr().out
    assert "full MNIST ready: 60000 training and 10000 test images" in out
    assert "new in the cache: models/vae-05-0123456789abcdef.keras" in out


def test_prepare_without_a_network_stops_before_running_notebooks(tmp_path, capsys,
                                                                 monkeypatch):
    monkeypatch.setenv(data.OFFLINE_ENV, "0")

    def no_network(source, cache_dir):
        raise data.DataError("could not download MNIST (no network); use --offline")

    monkeypatch.setattr(data, "load_mnist", no_network)
    path = fake_notebook(tmp_path, "05_vae", offline="0")
    assert prepare_room.main([str(path), "--cache-dir", str(tmp_path / "cache")]) == 1
    captured = capsys.readouterr()
    assert "error: could not download MNIST (no network); use --offline" in captured.err
    assert "running" not in captured.out


def test_a_failing_notebook_is_named_and_fails_the_run(tmp_path, capsys):
    good = fake_notebook(tmp_path, "01_ok")
    bad = fake_notebook(tmp_path, "02_bad", fail=True)
    cache = tmp_path / "cache"
    assert prepare_room.main([str(bad), str(good), "--cache-dir", str(cache), "--offline"]) == 1
    captured = capsys.readouterr()
    assert "02_bad.ipynb: FAILED" in captured.err and "ZeroDivisionError" in captured.err
    assert "1 notebook(s) failed: 02_bad.ipynb" in captured.err
    assert "01_ok.ipynb: ran in" in captured.out  # the others still run


def test_a_missing_notebook_is_an_error(tmp_path, capsys):
    assert prepare_room.main([str(tmp_path / "07_nope.ipynb"), "--offline"]) == 1
    assert "no such notebook" in capsys.readouterr().err


def test_cache_entries_check_mnist_and_describe_models(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"not MNIST" * 1000)
    models = tmp_path / "models"
    models.mkdir()
    (models / "vae-05-abc.keras").write_bytes(b"x")
    (models / "vae-05-abc.json").write_text("{broken")
    (tmp_path / ".mnist-download-xyz").mkdir()
    (tmp_path / ".mnist-download-xyz" / "mnist.npz").write_bytes(b"partial")
    entries = prepare_room.cache_entries(tmp_path)
    assert list(entries) == ["mnist.npz", "models/vae-05-abc.keras"]
    assert "CHECKSUM MISMATCH" in entries["mnist.npz"]
    assert "will retrain" in entries["models/vae-05-abc.keras"]
    report = prepare_room.report(tmp_path).splitlines()
    assert report[0] == f"cache folder {tmp_path}: 2 file(s), 9 KiB"  # 9,001 bytes
    assert report[1].split()[:6] == ["mnist.npz", "9", "KiB", "full", "MNIST,", "CHECKSUM"]


def test_cache_entries_accept_the_real_mnist_checksum(tmp_path, monkeypatch):
    (tmp_path / "mnist.npz").write_bytes(b"pretend")
    monkeypatch.setattr(data, "MNIST_SHA256", data.file_sha256(tmp_path / "mnist.npz"))
    assert prepare_room.cache_entries(tmp_path) == {"mnist.npz": "full MNIST, checksum OK"}


def test_import_does_not_pull_in_tensorflow():
    code = ("import vae_tutorial.prepare_room, sys; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_bad_offline_variable_is_an_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(data.OFFLINE_ENV, "maybe")
    path = fake_notebook(tmp_path, "05_vae")
    assert prepare_room.main([str(path), "--cache-dir", str(tmp_path / "cache")]) == 1
    assert "VAE_TUTORIAL_OFFLINE='maybe' is not understood" in capsys.readouterr().err
