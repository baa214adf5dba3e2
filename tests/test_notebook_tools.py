"""Unit tests for vae_tutorial.notebook_tools on small in-memory notebooks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from vae_tutorial import notebook_tools as nt

ROOT = Path(__file__).resolve().parents[1]
HEADER = (
    "# 01 · Autoencoders: squeezing digits\n\n"
    "**Teaching:** 25 min · **Exercises:** 15 min · **Prerequisites:** Python, NumPy\n"
)


def fresh_notebook(*sources: str) -> nbformat.NotebookNode:
    """A notebook that looks as if `make execute` had just run its code cells."""
    cells = [new_markdown_cell(HEADER)]
    for count, source in enumerate(sources, start=1):
        cell = new_code_cell(source, execution_count=count)
        cell.metadata["vae_tutorial"] = {"source_sha256": nt.source_sha256(source)}
        cells.append(cell)
    return new_notebook(cells=cells)


# --------------------------------------------------------------------------- freshness


def test_fresh_notebook_has_no_problems():
    assert nt.freshness_problems(fresh_notebook("x = 1", "x + 1")) == []


def test_edited_cell_is_reported():
    nb = fresh_notebook("x = 1", "x + 1")
    nb.cells[2].source = "x + 2"
    problems = nt.freshness_problems(nb)
    assert len(problems) == 1
    assert "cell 3" in problems[0] and "edited" in problems[0]
    assert "make execute" in problems[0]


def test_out_of_order_execution_is_reported():
    nb = fresh_notebook("x = 1", "x + 1")
    nb.cells[1].execution_count, nb.cells[2].execution_count = 2, 1
    problems = nt.freshness_problems(nb)
    assert [p.split(":")[0] for p in problems] == ["cell 2", "cell 3"]
    assert all("out-of-order" in p and "make execute" in p for p in problems)


def test_partial_execution_is_reported():
    # A kernel that ran cells 1-3 and then only cell 4 again: counts 1, 5.
    nb = fresh_notebook("x = 1", "x + 1")
    nb.cells[2].execution_count = 5
    assert nt.freshness_problems(nb) == [
        "cell 3: execution count is 5, expected 2 (out-of-order or partial execution); "
        "run `make execute`"
    ]


def test_unexecuted_cell_is_reported():
    nb = fresh_notebook("x = 1", "x + 1")
    nb.cells[2].execution_count = None
    problems = nt.freshness_problems(nb)
    assert len(problems) == 1
    assert "cell 3" in problems[0] and "never executed" in problems[0]


def test_missing_hash_is_reported():
    nb = fresh_notebook("x = 1")
    del nb.cells[1].metadata["vae_tutorial"]
    problems = nt.freshness_problems(nb)
    assert len(problems) == 1
    assert "cell 2" in problems[0] and "no source hash" in problems[0]


def test_empty_code_cell_is_reported():
    nb = fresh_notebook("x = 1")
    nb.cells.insert(1, new_code_cell("  \n"))
    assert nt.freshness_problems(nb) == ["cell 2: empty code cell; delete it"]


def test_hash_of_list_source_matches_string_source():
    assert nt.source_sha256(["a\n", "b"]) == nt.source_sha256("a\nb")


# --------------------------------------------------------------------------- solutions

CODE_WITH_SOLUTION = """\
def encode(x):
    \"\"\"Encode x.\"\"\"
    ### BEGIN SOLUTION
    z = x * 2
    return z
    ### END SOLUTION


print(encode(1))"""

MARKDOWN_WITH_SOLUTION = """\
**Answer:**

### BEGIN SOLUTION
The KL term pulls the codes towards the prior.
### END SOLUTION
"""


def notebook_with_solutions() -> nbformat.NotebookNode:
    nb = fresh_notebook("x = 1", CODE_WITH_SOLUTION)
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="kept\n")]
    nb.cells[2].outputs = [new_output("stream", name="stdout", text="2\n")]
    nb.cells.append(new_markdown_cell(MARKDOWN_WITH_SOLUTION))
    return nb


def test_code_solution_is_replaced_at_marker_indentation():
    student = nt.strip_solutions(notebook_with_solutions())
    assert student.cells[2].source == (
        "def encode(x):\n"
        '    """Encode x."""\n'
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n"
        "\n\n"
        "print(encode(1))"
    )


def test_markdown_solution_is_replaced():
    student = nt.strip_solutions(notebook_with_solutions())
    assert student.cells[3].source == "**Answer:**\n\n*Your answer here.*\n"


def test_outputs_cleared_only_where_a_solution_was():
    original = notebook_with_solutions()
    student = nt.strip_solutions(original)
    assert student.cells[1].outputs == original.cells[1].outputs
    assert student.cells[1].execution_count == 1
    assert student.cells[2].outputs == []
    assert student.cells[2].execution_count is None
    # The original is not modified.
    assert "BEGIN SOLUTION" in original.cells[2].source
    assert original.cells[2].outputs


def test_student_copy_has_no_solution_and_no_hashes():
    student = nt.strip_solutions(notebook_with_solutions())
    text = nbformat.writes(student)
    assert "SOLUTION" not in text and "z = x * 2" not in text and "prior" not in text
    assert "source_sha256" not in text


def test_count_solutions():
    assert nt.count_solutions(notebook_with_solutions()) == 2
    assert nt.count_solutions(fresh_notebook("x = 1")) == 0


def test_two_blocks_in_one_cell():
    block = "### BEGIN SOLUTION\nb = 2\n### END SOLUTION\n"
    source = "a = 1\n" + block + block
    nb = fresh_notebook(source)
    assert nt.count_solutions(nb) == 2
    stub = "# YOUR CODE HERE\nraise NotImplementedError()\n"
    assert nt.strip_solutions(nb).cells[1].source == "a = 1\n" + stub + stub


def test_notebook_without_solutions_is_unchanged():
    nb = fresh_notebook("x = 1", "x + 1")
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="1\n")]
    student = nt.strip_solutions(nb)
    # Only the instructor's source hashes go; sources, outputs and counts stay.
    for cell in nb.cells:
        cell.metadata.pop("vae_tutorial", None)
    assert student == nb


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
        ("x = 1\n### END SOLUTION\n", "without a matching"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "nested"),
    ],
)
def test_unbalanced_markers_raise_naming_notebook_and_cell(source, words):
    nb = fresh_notebook("x = 1", source)
    with pytest.raises(nt.SolutionMarkerError, match=rf"03_vae\.ipynb, cell 3: .*{words}"):
        nt.strip_solutions(nb, "03_vae.ipynb")
    with pytest.raises(ValueError, match="cell 3"):
        nt.count_solutions(nb, "03_vae.ipynb")


def test_student_command_writes_copies(tmp_path, capsys):
    src, dest = tmp_path / "notebooks", tmp_path / "student"
    src.mkdir()
    nbformat.write(notebook_with_solutions(), src / "01_ae.ipynb")
    assert nt.main(["student", str(src), str(dest)]) == 0
    assert "01_ae.ipynb (2 solution block(s) removed)" in capsys.readouterr().out
    student = nbformat.read(dest / "01_ae.ipynb", as_version=4)
    assert nt.count_solutions(student) == 0
    assert "raise NotImplementedError()" in student.cells[2].source


def test_student_command_reports_bad_markers_and_writes_nothing(tmp_path, capsys):
    src, dest = tmp_path / "notebooks", tmp_path / "student"
    src.mkdir()
    nbformat.write(notebook_with_solutions(), src / "01_ae.ipynb")
    nbformat.write(fresh_notebook("### BEGIN SOLUTION\n"), src / "02_bad.ipynb")
    assert nt.main(["student", str(src), str(dest)]) == 1
    assert "02_bad.ipynb, cell 2" in capsys.readouterr().err
    assert not dest.exists()


# --------------------------------------------------------------------------- header


def test_parse_header():
    assert nt.parse_header(fresh_notebook()) == {
        "title": "01 · Autoencoders: squeezing digits",
        "teaching": 25,
        "exercises": 15,
        "prerequisites": "Python, NumPy",
    }


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("# 01 · Title\n\nNo timings here.", "no timing line"),
        (
            "# 01 · Title\n\n**Teaching:** 25 · **Exercises:** 15 min · **Prerequisites:** x",
            "malformed",
        ),
        (
            "# 01 · Title\n\n**Teaching:** ten min · **Exercises:** 15 min · **Prerequisites:** x",
            "malformed",
        ),
        ("# 01 · Title\n\n**Teaching:** 25 min · **Exercises:** 15 min", "malformed"),
        ("**Teaching:** 25 min · **Exercises:** 15 min · **Prerequisites:** x", "no title"),
    ],
)
def test_parse_header_rejects_missing_or_malformed_lines(header, words):
    nb = new_notebook(cells=[new_markdown_cell(header)])
    with pytest.raises(ValueError, match=rf"^01_ae\.ipynb: .*{words}"):
        nt.parse_header(nb, "01_ae.ipynb")


def test_parse_header_needs_a_markdown_cell():
    with pytest.raises(ValueError, match="no markdown cell"):
        nt.parse_header(new_notebook(cells=[new_code_cell("x = 1")]))


def test_schedule_table(tmp_path, capsys):
    first, second = tmp_path / "01_ae.ipynb", tmp_path / "02_vae.ipynb"
    nbformat.write(fresh_notebook(), first)
    nbformat.write(
        new_notebook(
            cells=[
                new_markdown_cell(
                    "# 02 · VAEs | sampling\n\n"
                    "**Teaching:** 30 min · **Exercises:** 20 min · **Prerequisites:** 01"
                )
            ]
        ),
        second,
    )
    assert nt.main(["schedule", str(first), str(second)]) == 0
    out = capsys.readouterr().out
    assert "| 01_ae.ipynb | 01 · Autoencoders: squeezing digits | 25 | 15 | 40 |" in out
    assert "| 02_vae.ipynb | 02 · VAEs \\| sampling | 30 | 20 | 90 |" in out
    assert "| **Total** | | 55 | 35 | 90 |" in out
    assert "Total: 90 min (1 h 30 min)" in out


# --------------------------------------------------------------------------- execute


def test_execute_runs_in_place_offline_and_leaves_a_fresh_notebook(tmp_path, monkeypatch):
    monkeypatch.delenv("VAE_TUTORIAL_OFFLINE", raising=False)
    path = tmp_path / "tiny.ipynb"
    nb = new_notebook(
        cells=[
            new_markdown_cell(HEADER),
            new_code_cell("import os\nvalue = 20"),
            new_code_cell("print(value + 1, os.environ['VAE_TUTORIAL_OFFLINE'], os.getcwd())"),
        ]
    )
    nbformat.write(nb, path)
    assert nt.freshness_problems(nb)  # never executed

    seconds = nt.execute_notebook(path)

    executed = nbformat.read(path, as_version=4)
    assert seconds > 0
    assert nt.freshness_problems(executed) == []
    assert executed.cells[2].outputs[0]["text"] == f"21 1 {tmp_path}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.ipynb"]  # no temp file left
    assert "execution" not in executed.cells[1].metadata  # no timing noise in diffs


def test_execute_failure_leaves_the_file_untouched(tmp_path, capsys):
    path = tmp_path / "broken.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("1 / 0")]), path)
    before = path.read_bytes()
    assert nt.main(["execute", str(path)]) == 1
    assert "ZeroDivisionError" in capsys.readouterr().err
    assert path.read_bytes() == before


# --------------------------------------------------------------------------- import cost


def test_import_does_not_pull_in_tensorflow_keras_or_matplotlib():
    code = (
        "import vae_tutorial.notebook_tools, sys; "
        "heavy = {'tensorflow', 'keras', 'matplotlib'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
