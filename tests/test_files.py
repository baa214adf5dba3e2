"""Unit tests for vae_tutorial.files.atomic_write: all or nothing, never a stray file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from vae_tutorial.files import atomic_write


def test_the_file_appears_whole_and_the_temporary_name_keeps_the_suffix(tmp_path):
    target = tmp_path / "model.keras"
    with atomic_write(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".keras") and tmp != target
        tmp.write_text("new")
        assert not target.exists()  # nothing under the real name until the block succeeds
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["model.keras"]


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_a_failure_leaves_the_old_file_and_no_temporary_file(tmp_path, error):
    target = tmp_path / "meta.json"
    target.write_text("old")
    with pytest.raises(type(error)), atomic_write(target) as tmp:
        tmp.write_text("half")
        raise error
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["meta.json"]


def test_replacing_keeps_the_permissions_and_a_new_file_gets_0o644(tmp_path):
    old = tmp_path / "notebook.ipynb"
    old.write_text("{}")
    old.chmod(0o600)
    with atomic_write(old) as tmp:
        tmp.write_text("{ }")
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    new = tmp_path / "new.json"
    with atomic_write(new) as tmp:
        tmp.write_text("{}")
    assert stat.S_IMODE(new.stat().st_mode) == 0o644


def test_the_module_does_not_import_tensorflow():
    """notebook_tools uses it and must stay free of TensorFlow."""
    code = "import sys, vae_tutorial.files; print('tensorflow' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(root)}, check=True)
    assert out.stdout.strip() == "False"
