"""Student copies by nbgrader (vae_tutorial.student_copy), on small notebooks and the real ones.

The marker checks, the metadata stamp and the notebook reader need only nbformat; the copies
themselves and the throwaway nbgrader course need nbgrader (the ``test`` extra installs it).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from vae_tutorial import student_copy as sc
from vae_tutorial.notebook_tools import NotebookError, read_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

CODE_WITH_SOLUTION = """\
def encode(x):
    \"\"\"Encode x.\"\"\"
    ### BEGIN SOLUTION
    z = x * 2
    return z
    ### END SOLUTION


ex01.exercise_1.check(encode)"""

MARKDOWN_WITH_SOLUTION = """\
**Answer:**

### BEGIN SOLUTION
The KL term pulls the codes towards the prior.
### END SOLUTION
"""


def notebook_with_solutions(stamped: bool = True) -> nbformat.NotebookNode:
    """Cells: 1 header, 2 plain code (with output), 3 exercise heading, 4 code solution (with
    output and hashes), 5 markdown solution."""
    plain = new_code_cell("x = 1", execution_count=1,
                          outputs=[new_output("stream", name="stdout", text="kept\n")])
    solved = new_code_cell(CODE_WITH_SOLUTION, execution_count=2,
                           outputs=[new_output("stream", name="stdout", text="correct\n")])
    solved.metadata["vae_tutorial"] = {"source_sha256": "0" * 64, "outputs_sha256": "1" * 64}
    nb = new_notebook(cells=[
        new_markdown_cell("# 01 · Title"), plain, new_markdown_cell("### Exercise 1 · Double"),
        solved, new_markdown_cell(MARKDOWN_WITH_SOLUTION)])
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    if stamped:
        sc.stamp(nb, "nb")
    return nb


# --------------------------------------------------------------------------- markers


def test_solution_blocks_counts_per_cell():
    nb = notebook_with_solutions()
    block = "### BEGIN SOLUTION\nb = 2\n### END SOLUTION\n"
    nb.cells.append(new_code_cell("a = 1\n" + block + block))
    assert sc.solution_blocks(nb, "nb") == {3: 1, 4: 1, 5: 2}


@pytest.mark.parametrize(("source", "words"), [
    ("### BEGIN SOLUTION\nx = 1\n", "'### BEGIN SOLUTION' on line 1 is never closed"),
    ("x = 1\n### END SOLUTION\n", "'### END SOLUTION' on line 2 without a matching"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "nested"),
])
def test_unbalanced_markers_name_notebook_and_cell(source, words):
    nb = notebook_with_solutions()
    nb.cells.append(new_code_cell(source))
    with pytest.raises(sc.SolutionMarkerError, match=r"^03_vae\.ipynb, cell 6: ") as info:
        sc.solution_blocks(nb, "03_vae.ipynb")
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("marker", [
    "### BEGIN SOLUTON", "### begin solution", "## BEGIN SOLUTION", "#BEGIN SOLUTION",
    "### BEGIN_SOLUTION", "### BEGIN SOLUTIONS", "x = 1  ### BEGIN SOLUTION",
    "### END SOLUTON", "# End solution",
])
def test_misspelled_marker_is_an_error_naming_cell_and_line(marker):
    """Today's leak: a misspelled marker must not count as "no solution"."""
    for cell in (new_code_cell(f"a = 1\n{marker}\nsecret = 42\n"),
                 new_markdown_cell(f"Answer:\n{marker}\nsecret\n")):
        nb = notebook_with_solutions()
        nb.cells.append(cell)
        with pytest.raises(sc.SolutionMarkerError, match=r"^nb\.ipynb, cell 6, line 2: ") as info:
            sc.solution_blocks(nb, "nb.ipynb")
        assert repr(marker.strip()) in str(info.value)
        assert "misspelled" in str(info.value)


def test_ordinary_words_are_not_markers():
    nb = new_notebook(cells=[new_code_cell("# the end of the solution space\nbegin = 1"),
                             new_markdown_cell("We begin. The solution is in the end.")])
    assert sc.solution_blocks(nb, "nb") == {}


# --------------------------------------------------------------------------- stamp


def test_stamp_marks_solution_cells_for_nbgrader():
    nb = notebook_with_solutions(stamped=False)
    assert sc.stamp(nb, "nb") == 2
    assert nb.cells[3].metadata["nbgrader"] == {
        "grade": False, "grade_id": "exercise_1", "locked": False, "schema_version": 3,
        "solution": True, "task": False}
    assert nb.cells[4].metadata["nbgrader"]["grade_id"] == "exercise_1_2"  # same exercise
    assert "nbgrader" not in nb.cells[1].metadata
    assert nb.cells[3].metadata["vae_tutorial"]  # other metadata kept


def test_stamp_is_idempotent_and_removes_stale_metadata():
    nb = notebook_with_solutions()
    before = copy.deepcopy(nb)
    assert sc.stamp(nb, "nb") == 0
    assert nb == before
    nb.cells[4].source = "The answer, without markers now."
    assert sc.stamp(nb, "nb") == 1
    assert "nbgrader" not in nb.cells[4].metadata


def test_committed_notebooks_are_stamped():
    """So an instructor can import them into an nbgrader course as they are."""
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert sc.stamp(nb, path.name) == 0, (
            f"{path.name}: run `python -m vae_tutorial.student_copy stamp {path}`")


def test_stamp_command_writes_only_changed_files(tmp_path, capsys):
    path = tmp_path / "01_ae.ipynb"
    nbformat.write(notebook_with_solutions(stamped=False), path)
    assert sc.main(["stamp", str(path)]) == 0
    assert "2 cell(s) stamped" in capsys.readouterr().out
    stamped = path.read_bytes()
    assert sc.main(["stamp", str(path)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert path.read_bytes() == stamped


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize(("text", "words"), [
    ('{"cells": [', "not valid JSON"),
    ("", "not valid JSON"),
    ('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "extra": 1}',
     "not a valid notebook"),
    ('{"cells": [{"cell_type": "banana", "source": ""}], "metadata": {}, "nbformat": 4, '
     '"nbformat_minor": 5}', "not a valid notebook"),
    ('[1, 2]', "not a valid notebook"),
])
def test_malformed_notebook_gets_a_clear_message(tmp_path, capsys, text, words):
    src = tmp_path / "notebooks"
    src.mkdir()
    (src / "02_bad.ipynb").write_text(text)
    with pytest.raises(NotebookError, match=rf"02_bad\.ipynb: .*{words}"):
        read_notebook(src / "02_bad.ipynb")
    assert sc.main(["stamp", str(src / "02_bad.ipynb")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "02_bad.ipynb" in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_missing_notebook(tmp_path):
    with pytest.raises(NotebookError, match="cannot read it"):
        read_notebook(tmp_path / "nope.ipynb")


# --------------------------------------------------------------------------- copies (nbgrader)

def _nbgrader():
    return pytest.importorskip("nbgrader", reason="nbgrader (the instructor extra) is not "
                               "installed: pip install -e '.[test]'")


def test_code_solution_replaced_by_nbgrader_stub_and_check_kept():
    _nbgrader()
    student, blocks = sc.student_copy(notebook_with_solutions(), "nb")
    assert blocks == 2
    assert student.cells[3].source == (
        "def encode(x):\n"
        '    """Encode x."""\n'
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n"
        "\n\n"
        "ex01.exercise_1.check(encode)"
    )
    assert "YOUR ANSWER HERE" in student.cells[4].source
    assert "prior" not in student.cells[4].source


def test_outputs_and_hashes_cleared_only_where_a_solution_was():
    _nbgrader()
    original = notebook_with_solutions()
    kept = copy.deepcopy(original)
    student, _ = sc.student_copy(original, "nb")
    assert original == kept  # the source notebook is not modified
    assert student.cells[1].outputs == original.cells[1].outputs
    assert student.cells[1].execution_count == 1
    assert student.cells[3].outputs == [] and student.cells[3].execution_count is None
    text = nbformat.writes(student)
    assert "SOLUTION" not in text and "z = x * 2" not in text and "source_sha256" not in text
    assert student.cells[3].metadata["nbgrader"]["solution"]  # still importable by nbgrader


def test_solution_without_metadata_is_refused():
    nb = notebook_with_solutions(stamped=False)
    with pytest.raises(sc.SolutionMarkerError, match=r"nb, cell 4: .*lacks nbgrader.*stamp"):
        sc.student_copy(nb, "nb")
    nb = notebook_with_solutions()
    nb.cells[3].source = "z = 2  # solution cell whose markers were deleted"
    with pytest.raises(sc.SolutionMarkerError, match="cell 4: is an nbgrader solution cell"):
        sc.student_copy(nb, "nb")


def _course(tmp_path, *names):
    src = tmp_path / "notebooks"
    src.mkdir()
    for name in names:
        nbformat.write(notebook_with_solutions(), src / name)
    (src / "NOTATION.md").write_text("| symbol | meaning |\n")
    return src, tmp_path / "student"


def test_write_command_writes_copies(tmp_path, capsys):
    _nbgrader()
    src, dest = _course(tmp_path, "01_ae.ipynb", "02_vae.ipynb")
    assert sc.main(["write", str(src), str(dest)]) == 0
    assert "01_ae.ipynb (2 solution block(s) cleared by nbgrader)" in capsys.readouterr().out
    assert (dest / "NOTATION.md").read_text() == "| symbol | meaning |\n"  # links still work
    for name in ("01_ae.ipynb", "02_vae.ipynb"):
        student = read_notebook(dest / name)
        assert sc.solution_blocks(student, name) == {}
        assert "raise NotImplementedError()" in student.cells[3].source


@pytest.mark.parametrize("same", [".", "sub/..", "SRC"])
def test_refuses_when_destination_is_the_source(tmp_path, capsys, same):
    src, _ = _course(tmp_path, "01_ae.ipynb")
    (src / "sub").mkdir()
    before = (src / "01_ae.ipynb").read_bytes()
    dest = str(src) if same == "SRC" else str(src / same)
    for args in (["write", str(src), dest], ["write", str(src), dest, "--force"]):
        assert sc.main(args) == 1
        assert "is a source file" in capsys.readouterr().err
    assert (src / "01_ae.ipynb").read_bytes() == before


def test_never_overwrites_a_learners_file_unless_forced(tmp_path, capsys):
    _nbgrader()
    src, dest = _course(tmp_path, "01_ae.ipynb", "02_vae.ipynb")
    dest.mkdir()
    (dest / "02_vae.ipynb").write_text("a learner's own work")
    (dest / "NOTATION.md").write_text("a learner's notes")
    assert sc.main(["write", str(src), str(dest)]) == 1
    err = capsys.readouterr().err
    assert "02_vae.ipynb" in err and "--force" in err and "nothing written" in err
    assert "2 file(s)" in err and (dest / "NOTATION.md").read_text() == "a learner's notes"
    assert (dest / "02_vae.ipynb").read_text() == "a learner's own work"
    assert not (dest / "01_ae.ipynb").exists()  # all or nothing
    assert sc.main(["write", str(src), str(dest), "--force"]) == 0
    assert read_notebook(dest / "02_vae.ipynb").cells[3].source.count("NotImplementedError")


def test_never_writes_through_a_link_onto_a_source(tmp_path, capsys):
    src, dest = _course(tmp_path, "01_ae.ipynb")
    dest.mkdir()
    (dest / "01_ae.ipynb").symlink_to(src / "01_ae.ipynb")
    before = (src / "01_ae.ipynb").read_bytes()
    assert sc.main(["write", str(src), str(dest), "--force"]) == 1
    assert "is a source file" in capsys.readouterr().err
    assert (src / "01_ae.ipynb").read_bytes() == before


def test_bad_marker_or_malformed_notebook_writes_nothing(tmp_path, capsys):
    src, dest = _course(tmp_path, "01_ae.ipynb")
    bad = notebook_with_solutions()
    bad.cells[3].source = bad.cells[3].source.replace("### END SOLUTION", "### END SOLUTON")
    nbformat.write(bad, src / "02_bad.ipynb")
    assert sc.main(["write", str(src), str(dest)]) == 1
    err = capsys.readouterr().err
    assert "02_bad.ipynb, cell 4" in err and "Traceback" not in err
    assert not dest.exists()
    (src / "02_bad.ipynb").write_text('{"cells": ')
    assert sc.main(["write", str(src), str(dest)]) == 1
    assert "02_bad.ipynb: not a notebook" in capsys.readouterr().err
    assert not dest.exists()


def test_empty_source_folder(tmp_path, capsys):
    assert sc.main(["write", str(tmp_path), str(tmp_path / "student")]) == 1
    assert "no notebooks" in capsys.readouterr().err


def test_the_module_does_not_import_tensorflow():
    code = "import sys, vae_tutorial.student_copy; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- nbgrader course


def test_nbgrader_course_generates_the_assignment_from_the_notebooks(tmp_path):
    """A throwaway nbgrader course imports the committed notebooks as one assignment, and
    `nbgrader generate_assignment` releases student versions: solutions cleared, checks kept."""
    _nbgrader()
    source = tmp_path / "course" / "source" / "vae"
    source.mkdir(parents=True)
    for path in NOTEBOOKS:
        shutil.copy(path, source / path.name)
    shutil.copy(ROOT / "notebooks" / "NOTATION.md", source / "NOTATION.md")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "vae",
         f"--CourseDirectory.root={tmp_path / 'course'}"],
        capture_output=True, text=True, env=env, cwd=tmp_path / "course", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    release = tmp_path / "course" / "release" / "vae"
    assert sorted(p.name for p in release.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        released = nbformat.read(release / path.name, as_version=4)
        source_nb = nbformat.read(path, as_version=4)
        blocks = sc.solution_blocks(source_nb, path.name)
        assert blocks, f"{path.name}: no solution blocks"
        for index in blocks:
            text = released.cells[index].source
            assert "SOLUTION" not in text and "raise NotImplementedError()" in text, path.name
            checks = [line for line in source_nb.cells[index].source.splitlines()
                      if ".check(" in line]
            assert all(line in text.splitlines() for line in checks), path.name
