"""Structural checks on every committed notebook (no kernel needed, so they run in seconds).

The main guard: stored outputs must come from executing the current sources top to bottom
(``make execute``), so nbval and readers never see stale outputs. Each check is a function
returning a list of problems; the checks are also run on a small valid notebook and on
broken variants of it, so they are tested even before notebooks/ has any content.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from vae_tutorial import notebook_tools as nt
from vae_tutorial import student_copy

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))

MIN_SOLUTIONS, MAX_SOLUTIONS = 2, 4
MIN_KEY_POINTS, MAX_KEY_POINTS = 3, 6
KEY_POINTS_RE = re.compile(r"^##\s+Key points\s*$", re.IGNORECASE)
NEXT_RE = re.compile(r"^##\s+What comes next\b", re.IGNORECASE)
HEADING_RE = re.compile(r"^#{1,6}\s")
BULLET_RE = re.compile(r"^[-*+]\s+\S")
EXERCISE_RE = re.compile(r"^###\s+Exercise\b", re.IGNORECASE)
NOTATION_LINK_RE = re.compile(r"\[[^\]]+\]\(NOTATION\.md\)")


def markdown_lines(nb):
    """(cell number, line) for every line of every markdown cell, in order."""
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                yield number, line.rstrip()


def key_points_problems(nb) -> list[str]:
    """A `## Key points` cell with 3-6 bullets, followed by a `## What comes next` section."""
    key_cell = None
    bullets = 0
    in_key_points = False
    for number, line in markdown_lines(nb):
        if KEY_POINTS_RE.match(line):
            if key_cell is not None:
                return [f"cells {key_cell} and {number}: two '## Key points' headings"]
            key_cell, in_key_points = number, True
            continue
        if in_key_points and (HEADING_RE.match(line) or number != key_cell):
            in_key_points = False
        if in_key_points and BULLET_RE.match(line):
            bullets += 1
        if NEXT_RE.match(line):
            if key_cell is None:
                return [f"cell {number}: '## What comes next' comes before '## Key points'"]
            if not MIN_KEY_POINTS <= bullets <= MAX_KEY_POINTS:
                return [
                    f"cell {key_cell}: '## Key points' has {bullets} bullet(s); "
                    f"use {MIN_KEY_POINTS} to {MAX_KEY_POINTS} top-level '- ' bullets"
                ]
            return []
    if key_cell is None:
        return ["no markdown cell with a '## Key points' heading; add one near the end"]
    return [f"no '## What comes next' section after '## Key points' (cell {key_cell})"]


def solution_problems(nb, name: str) -> list[str]:
    """2-4 solution blocks, and a solution after every `### Exercise` before the next one."""
    count = sum(student_copy.solution_blocks(nb, name).values())
    problems = []
    if not MIN_SOLUTIONS <= count <= MAX_SOLUTIONS:
        problems.append(
            f"{count} solution block(s); each notebook needs {MIN_SOLUTIONS} to {MAX_SOLUTIONS} "
            "('### BEGIN SOLUTION' ... '### END SOLUTION')"
        )
    open_exercise = None  # cell number of an exercise still waiting for its solution
    for number, cell in enumerate(nb.cells, start=1):
        for line in cell.source.splitlines():
            if cell.cell_type == "markdown" and EXERCISE_RE.match(line.strip()):
                if open_exercise is not None:
                    problems.append(f"cell {open_exercise}: exercise has no solution block")
                open_exercise = number
            elif line.strip() == student_copy.BEGIN_SOLUTION:
                open_exercise = None
    if open_exercise is not None:
        problems.append(f"cell {open_exercise}: exercise has no solution block after it")
    return problems


def nbgrader_metadata_problems(nb, name: str) -> list[str]:
    """Solution cells carry nbgrader's metadata (the student copy needs it)."""
    if student_copy.stamp(nb, name):
        return [f"solution cells lack nbgrader metadata; run `python -m vae_tutorial.student_copy "
                f"stamp notebooks/{name}`"]
    return []


def notation_link_problems(nb) -> list[str]:
    """A markdown cell links to the table of symbols, e.g. ``[notation](NOTATION.md)``."""
    if any(NOTATION_LINK_RE.search(line) for _, line in markdown_lines(nb)):
        return []
    return ["no link to the table of symbols; add '[notation](NOTATION.md)' to the header cell"]


def error_output_problems(nb) -> list[str]:
    """Stored errors, and stderr text (log noise a learner should not have to read)."""
    return [
        f"cell {number}: stored output is {what}; fix the cell (to show an error message on "
        "purpose, catch it and print it), then run `make execute`"
        for number, cell in enumerate(nb.cells, start=1)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        for what in (
            [f"an error ({output.get('ename')})"] if output.get("output_type") == "error"
            else [f"stderr text ({output.get('text', '')[:60]!r})"]
            if output.get("name") == "stderr" else []
        )
    ]


# --------------------------------------------------------------------------- the notebooks


def read(path: Path):
    return nbformat.read(path, as_version=4)


notebooks = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])


@notebooks
def test_outputs_are_fresh(path):
    assert nt.freshness_problems(read(path)) == [], f"{path.name}: stale outputs"


@notebooks
def test_header_parses(path):
    """The timing line parses and agrees with the headings marked " (optional)"."""
    plan = nt.read_plan(read(path), path.name)
    assert plan.core_teaching > 0, f"{path.name}: core teaching time must be positive"


@notebooks
def test_key_points_and_what_comes_next(path):
    assert key_points_problems(read(path)) == [], path.name


@notebooks
def test_exercises_have_solutions(path):
    assert solution_problems(read(path), path.name) == [], path.name


@notebooks
def test_solution_cells_carry_nbgrader_metadata(path):
    assert nbgrader_metadata_problems(read(path), path.name) == [], path.name


@notebooks
def test_links_to_the_notation_table(path):
    assert (NOTEBOOK_DIR / "NOTATION.md").is_file(), "notebooks/NOTATION.md is missing"
    assert notation_link_problems(read(path)) == [], path.name


@notebooks
def test_no_error_outputs(path):
    assert error_output_problems(read(path)) == [], path.name


# --------------------------------------------------------------------------- the checks


def executed_code_cell(source: str, count: int, outputs=()):
    cell = new_code_cell(source, execution_count=count, outputs=list(outputs))
    cell.metadata["vae_tutorial"] = {
        "source_sha256": nt.source_sha256(source),
        "outputs_sha256": nt.outputs_sha256(cell.outputs),
    }
    return cell


def valid_notebook():
    """A small notebook that passes every check (cells numbered in the comments)."""
    result = new_output("execute_result", data={"text/plain": "4"}, execution_count=3)
    shown = executed_code_cell("double(2)", 3, [result])
    nb = new_notebook(
        cells=[
            new_markdown_cell(  # 1
                "# 01 · Autoencoders: squeezing digits\n\n"
                "**Teaching:** 25 min · **Exercises:** 15 min · **Prerequisites:** Python\n\n"
                "Symbols: see the [notation](NOTATION.md)."
            ),
            executed_code_cell("import numpy as np", 1),  # 2
            new_markdown_cell("### Exercise 1 · Double it"),  # 3
            executed_code_cell(  # 4
                "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", 2
            ),
            shown,  # 5
            new_markdown_cell("### Exercise 2 · Explain it"),  # 6
            new_markdown_cell("### BEGIN SOLUTION\nBecause.\n### END SOLUTION"),  # 7
            new_markdown_cell(  # 8
                "## Key points\n\n- one\n- two\n  continued\n- three\n\n## What comes next\n\nVAEs."
            ),
        ]
    )
    student_copy.stamp(nb, "01_valid.ipynb")
    return nb


def run_all_checks(path: Path):
    test_outputs_are_fresh(path)
    test_header_parses(path)
    test_key_points_and_what_comes_next(path)
    test_exercises_have_solutions(path)
    test_solution_cells_carry_nbgrader_metadata(path)
    test_no_error_outputs(path)
    assert notation_link_problems(read(path)) == []


def test_checks_accept_a_valid_notebook(tmp_path):
    path = tmp_path / "01_valid.ipynb"
    nbformat.write(valid_notebook(), path)
    run_all_checks(path)


def test_freshness_check_catches_a_deleted_figure():
    nb = valid_notebook()
    nb.cells[4].outputs = []  # the output of `double(2)`; its execution count stays 3
    assert nt.freshness_problems(nb) == [
        "cell 5: stored outputs differ from those its execution produced (an output deleted, "
        "added or edited since); run `make execute`"
    ]


def test_notation_link_check():
    nb = valid_notebook()
    header = nb.cells[0]
    for text in ("[notation](NOTATION.md)", "the [table of symbols](NOTATION.md)"):
        header.source = f"# 01 · Title\n\nSee {text}."
        assert notation_link_problems(nb) == []
    for text in ("notation", "[notation](notation.md)", "[notation](NOTATION.md#x)"):
        header.source = f"# 01 · Title\n\nSee {text}."
        assert "no link to the table of symbols" in notation_link_problems(nb)[0]


def test_key_points_check_rejects_bad_sections():
    nb = valid_notebook()
    key = next(c for c in nb.cells if "Key points" in c.source)
    key.source = "## Key points\n\n- one\n- two\n\n## What comes next\n\nVAEs."
    assert "2 bullet(s)" in key_points_problems(nb)[0]
    key.source = "## Key points\n\n- a\n- b\n- c"
    assert "no '## What comes next'" in key_points_problems(nb)[0]
    nb.cells.append(new_markdown_cell("## What comes next\n\nVAEs."))
    assert key_points_problems(nb) == []  # the section may be in a later cell
    key.source = "## Summary\n\n- a"
    assert "comes before '## Key points'" in key_points_problems(nb)[0]
    nb.cells.pop()
    assert "no markdown cell with a '## Key points'" in key_points_problems(nb)[0]


def test_solution_check_rejects_missing_solutions():
    nb = valid_notebook()
    nb.cells.append(new_markdown_cell("### Exercise 3 · Unsolved"))
    assert solution_problems(nb, "x") == [
        f"cell {len(nb.cells)}: exercise has no solution block after it"
    ]
    del nb.cells[6]  # the solution to exercise 2
    problems = solution_problems(nb, "x")
    assert "1 solution block(s)" in problems[0]
    assert "cell 6: exercise has no solution block" in problems


def test_error_output_check():
    nb = valid_notebook()
    nb.cells[4].outputs.append(new_output("error", ename="ValueError", evalue="", traceback=[]))
    assert "cell 5: stored output is an error (ValueError)" in error_output_problems(nb)[0]
    nb = valid_notebook()
    nb.cells[4].outputs.append(new_output("stream", name="stderr", text="I0000 oneDNN ...\n"))
    assert "cell 5: stored output is stderr text ('I0000 oneDNN" in error_output_problems(nb)[0]


def test_nbgrader_metadata_check():
    nb = valid_notebook()
    del nb.cells[3].metadata["nbgrader"]
    assert "lack nbgrader metadata" in nbgrader_metadata_problems(nb, "01_valid.ipynb")[0]
