"""The Colab badge and set-up cell (vae_tutorial.colab): the tool on temporary copies, the
set-up cell's two branches (Colab simulated by a fake ``google.colab`` module), and the
committed notebooks."""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from packaging.requirements import Requirement

from vae_tutorial import colab, links
from vae_tutorial import notebook_tools as nt

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
HEADER = ("# 01 · Title\n\n**Teaching:** 45 min · **Exercises:** 30 min · "
          "**Prerequisites:** none\n\n**Questions**\n- Why?")


def small_notebook() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell(HEADER),
        new_markdown_cell("## Setup"),
        new_code_cell("from vae_tutorial import setup_notebook"),
        new_code_cell("x = 1"),
    ])


def run_setup_cell(monkeypatch, on_colab: bool) -> list:
    """Execute the set-up cell's code as a kernel would; return the commands it ran."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(colab.setup_cell_source(), "<colab-setup>", "exec"), {})
    return calls


def test_setup_cell_installs_the_package_on_colab_only(monkeypatch):
    assert run_setup_cell(monkeypatch, on_colab=False) == []
    [(args, kwargs)] = run_setup_cell(monkeypatch, on_colab=True)
    assert args == ([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                     f"vae-tutorial @ git+https://github.com/{links.REPOSITORY}@{links.BRANCH}"],)
    assert kwargs == {"check": True}  # a failed install stops the notebook at once


def test_colab_has_every_dependency_the_setup_cell_leaves_out():
    # --no-deps is right only while Colab ships everything the course needs at run time.
    # (read with a regular expression: Python 3.10, still supported, has no tomllib)
    block = re.search(r"^dependencies = \[(.*?)^\]", (ROOT / "pyproject.toml").read_text(),
                      re.MULTILINE | re.DOTALL)[1]
    names = {Requirement(spec).name.lower() for spec in re.findall(r'"([^"]+)"', block)}
    assert {"tensorflow", "keras", "numpy"} <= names
    unaccounted = names - set(colab.COLAB_PREINSTALLED) - set(colab.NOT_NEEDED_ON_COLAB)
    assert not unaccounted, (
        f"Colab may lack {sorted(unaccounted)}: check Colab's `pip freeze`, then add them to "
        "COLAB_PREINSTALLED or install them in colab.setup_cell_source()")


def test_apply_inserts_badge_and_setup_cell():
    nb = small_notebook()
    assert colab.problems(nb, "notebooks/01_x.ipynb") != []
    assert colab.apply(nb, "notebooks/01_x.ipynb") is True
    url = links.colab_url("notebooks/01_x.ipynb")
    lines = nb.cells[0].source.splitlines()
    badge = f"[![Open In Colab]({colab.BADGE_IMAGE})]({url})"
    assert lines[:5] == HEADER.splitlines()[:4] + [badge]
    assert lines[5:] == ["", "**Questions**", "- Why?"]
    assert [c.cell_type for c in nb.cells] == ["markdown", "markdown", "code", "code", "code"]
    assert nb.cells[2].source == colab.setup_cell_source()
    assert nb.cells[2].metadata["tags"] == [colab.SETUP_TAG]
    assert colab.problems(nb, "notebooks/01_x.ipynb") == []
    # the schedule still reads the header
    assert nt.read_plan(nb, "01_x.ipynb").teaching == 45


def test_apply_is_idempotent_and_updates_an_old_badge_and_cell(monkeypatch):
    nb = small_notebook()
    colab.apply(nb, "01_x.ipynb")
    once = nbformat.writes(nb)
    assert colab.apply(nb, "01_x.ipynb") is False
    assert nbformat.writes(nb) == once
    # the course moves: badge and cell follow links, with no second copy of either
    monkeypatch.setattr(links, "REPOSITORY", "someone/else")
    monkeypatch.setattr(links, "BRANCH", "v2")
    assert colab.apply(nb, "01_x.ipynb") is True
    assert nb.cells[0].source.count("colab-badge.svg") == 1
    assert "someone/else/blob/v2/notebooks/01_x.ipynb" in nb.cells[0].source
    assert sum(colab.SETUP_TAG in c.metadata.get("tags", []) for c in nb.cells) == 1
    assert "git+https://github.com/someone/else@v2" in nb.cells[2].source
    assert colab.problems(nb, "01_x.ipynb") == []
    monkeypatch.undo()
    colab.apply(nb, "01_x.ipynb")
    assert nbformat.writes(nb) == once  # back to exactly what one run gave


def test_problems_name_what_is_wrong():
    nb = small_notebook()
    colab.apply(nb, "01_x.ipynb")
    nb.cells.insert(2, new_code_cell("y = 2"))
    assert colab.problems(nb, "01_x.ipynb") == ["the 'colab-setup' cell is not the first code cell"]
    nb.cells[3].source += "\nprint('x')"
    del nb.cells[2]
    assert colab.problems(nb, "01_x.ipynb") == ["the 'colab-setup' cell's code is outdated"]
    nb.cells[0].source = HEADER
    assert "first cell has no Colab badge line" in colab.problems(nb, "01_x.ipynb")[0]


def test_apply_needs_a_markdown_header():
    nb = new_notebook(cells=[new_code_cell("x = 1")])
    with pytest.raises(ValueError, match="first cell must be the markdown header"):
        colab.apply(nb, "01_x.ipynb")


@pytest.mark.parametrize("path", NOTEBOOKS[:1], ids=lambda p: p.name)
def test_command_line_on_a_copy_of_a_course_notebook(tmp_path, path, capsys):
    copy = tmp_path / path.name
    # The committed notebook as it was before the tool ran: no set-up cell, no badge line.
    before = nbformat.read(path, as_version=4)
    before.cells = [c for c in before.cells if colab.SETUP_TAG not in c.metadata.get("tags", [])]
    header = before.cells[0].source.split("\n")
    before.cells[0].source = "\n".join(
        line for line in header if colab.badge_markdown(path) not in line).replace("\n\n\n", "\n\n")
    nbformat.write(before, copy)
    before = nbformat.read(copy, as_version=4)
    assert colab.main([str(copy)]) == 0
    after = nbformat.read(copy, as_version=4)
    assert colab.problems(after, copy) == []
    assert colab.main(["--check", str(copy)]) == 0
    assert colab.main([str(copy)]) == 0
    assert "already up to date" in capsys.readouterr().out
    # only the header and one new cell differ; every other cell is kept as it was
    assert len(after.cells) == len(before.cells) + 1
    kept = [c for c in after.cells if colab.SETUP_TAG not in c.metadata.get("tags", [])]
    assert kept[1:] == before.cells[1:]
    assert nt.read_plan(after, path.name) == nt.read_plan(before, path.name)
    assert f"({links.colab_url('notebooks/' + path.name)})" in after.cells[0].source


def test_badge_urls_point_at_real_notebooks():
    for path in NOTEBOOKS:
        url = colab.badge_markdown(path).rsplit("(", 1)[1].removesuffix(")")
        in_repository = url.split(f"/{links.REPOSITORY}/blob/{links.BRANCH}/")[1]
        assert in_repository == f"notebooks/{path.name}" and (ROOT / in_repository).is_file()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_course_notebook_has_the_colab_badge_and_setup_cell(path):
    # Passes once `python -m vae_tutorial.colab notebooks/*.ipynb` has been run (and the
    # notebooks re-executed with `make execute`).
    problems = colab.problems(nbformat.read(path, as_version=4), path)
    assert problems == [], f"{path.name}: {problems}; run `python -m vae_tutorial.colab {path}`"


@pytest.mark.parametrize("content, words", [(None, "cannot read it"),
                                             ("{not json", "not valid JSON"),
                                             ('{"cells": 3}', "not a valid notebook")])
def test_command_line_names_an_unreadable_notebook_in_one_line(tmp_path, capsys, content,
                                                               words):
    path = tmp_path / "01_bad.ipynb"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert colab.main(["--check", str(path)]) == 1
    assert colab.main([str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count(f"error: {path}: ") == 2 and words in err and "Traceback" not in err
