"""Student copies of the notebooks, made by nbgrader; imports no TensorFlow.

    python -m vae_tutorial.student_copy write notebooks student [--force]
    python -m vae_tutorial.student_copy stamp notebooks/*.ipynb

A solution sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` lines in a cell with
nbgrader's solution metadata (``stamp`` adds it), so the notebooks also import into an
nbgrader course; nbgrader is the ``instructor`` extra. Introduced with the classroom kit
(issue 11).
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import sys
from pathlib import Path

from nbformat import NotebookNode

from .files import atomic_write
from .notebook_tools import METADATA_KEY, read_notebook, write_notebook

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
# A line meant as a marker: nbgrader's delimiters anywhere in it, or a comment starting with
# "begin"/"end" and "sol" in any case or spelling ("## Begin solution", "### END SOLUTON").
_MARKER_LIKE = re.compile(r"BEGIN SOLUTION|END SOLUTION|^\s*#+\s*(begin|end)[\s_-]*sol", re.I)


class SolutionMarkerError(ValueError):
    """A misspelled, unbalanced or nested solution marker, or missing nbgrader metadata."""


def solution_blocks(nb: NotebookNode, name: str) -> dict[int, int]:
    """{cell index: number of solution blocks} for the cells of ``nb`` that hold any;
    ``SolutionMarkerError`` names the notebook, cell (from 1) and line of a bad marker."""
    blocks = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "raw":
            continue
        where = f"{name}, cell {index + 1}"
        begin_line = None
        for line_number, line in enumerate(cell.source.splitlines(), start=1):
            marker = line.strip()
            if marker == BEGIN_SOLUTION:
                if begin_line is not None:
                    raise SolutionMarkerError(
                        f"{where}: nested '{BEGIN_SOLUTION}' on line {line_number} (the block "
                        f"opened on line {begin_line} is not closed); add '{END_SOLUTION}' first")
                begin_line = line_number
            elif marker == END_SOLUTION:
                if begin_line is None:
                    raise SolutionMarkerError(
                        f"{where}: '{END_SOLUTION}' on line {line_number} without a matching "
                        f"'{BEGIN_SOLUTION}' before it")
                begin_line = None
                blocks[index] = blocks.get(index, 0) + 1
            elif _MARKER_LIKE.search(line):
                raise SolutionMarkerError(
                    f"{where}, line {line_number}: {marker!r} looks like a solution marker but "
                    f"is not exactly '{BEGIN_SOLUTION}' or '{END_SOLUTION}' on a line of its "
                    "own; a misspelled marker would leave the solution in the student copy")
        if begin_line is not None:
            raise SolutionMarkerError(
                f"{where}: '{BEGIN_SOLUTION}' on line {begin_line} is never closed; add "
                f"'{END_SOLUTION}' in the same cell")
    return blocks


def _is_solution_cell(cell: NotebookNode) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def stamp(nb: NotebookNode, name: str) -> int:
    """Give every cell of ``nb`` with a solution block nbgrader's solution-cell metadata (an
    ungraded answer cell, ``grade_id`` "exercise_N" after the heading "### Exercise N" above
    it), and take it from cells that no longer hold one; return the number of cells changed.
    Running it again changes nothing."""
    blocks = solution_blocks(nb, name)
    before = [copy.deepcopy(cell.metadata) for cell in nb.cells]
    used, exercise = {}, None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and (m := re.search(r"^###\s+Exercise\s+(\d+)",
                                                             cell.source, re.M)):
            exercise = m[1]
        if index in blocks:
            base = f"exercise_{exercise}" if exercise else f"solution_cell_{index + 1}"
            used[base] = used.get(base, 0) + 1  # the second cell of exercise 1: exercise_1_2
            grade_id = base if used[base] == 1 else f"{base}_{used[base]}"
            cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": False,
                                         "schema_version": 3, "solution": True, "task": False}
        elif _is_solution_cell(cell) and not cell.metadata["nbgrader"].get("grade"):
            del cell.metadata["nbgrader"]
    return sum(cell.metadata != old for cell, old in zip(nb.cells, before, strict=True))


def student_copy(nb: NotebookNode, name: str) -> tuple[NotebookNode, int]:
    """A copy of ``nb`` with each solution replaced by nbgrader's stub (its ``ClearSolutions``
    preprocessor), the outputs of those cells and notebook_tools' hashes removed; and the
    number of solution blocks cleared. ``SolutionMarkerError`` for a bad marker, or solution
    blocks and nbgrader's solution-cell metadata that disagree (run ``stamp``)."""
    blocks = solution_blocks(nb, name)
    for index, cell in enumerate(nb.cells):
        if (index in blocks) != _is_solution_cell(cell):
            problem = ("holds a solution but lacks nbgrader's solution metadata" if index in blocks
                       else "is an nbgrader solution cell without a solution block (nbgrader "
                       "would clear all of it)")
            raise SolutionMarkerError(
                f"{name}, cell {index + 1}: {problem}; run `python -m vae_tutorial.student_copy "
                "stamp` on the notebook")
    try:
        from nbgrader.preprocessors import ClearSolutions
    except ImportError:
        raise ImportError("student copies need nbgrader, an instructor's extra: "
                          'pip install -e ".[instructor]"') from None
    student, _ = ClearSolutions().preprocess(copy.deepcopy(nb), {})
    for index, cell in enumerate(student.cells):
        if cell.cell_type == "code":
            cell.metadata.pop(METADATA_KEY, None)  # stale in a copy
            if index in blocks:
                cell.outputs, cell.execution_count = [], None
    return student, sum(blocks.values())


def write_student_copies(src_dir: str | os.PathLike, dest_dir: str | os.PathLike,
                         force: bool = False) -> list[Path]:
    """Write a :func:`student_copy` of every notebook in ``src_dir`` to ``dest_dir``, and a
    copy of the folder's other files (NOTATION.md); return their paths. Checks all first and
    writes nothing on any error: a copy would replace a source file (``dest_dir`` is
    ``src_dir``, or a link) or, unless ``force``, another file; a bad marker or notebook."""
    src, dest = Path(src_dir).resolve(), Path(dest_dir).resolve()
    files = [p for p in sorted(src.iterdir()) if p.is_file() and not p.name.startswith(".")]
    notebooks = {path: read_notebook(path) for path in files if path.suffix == ".ipynb"}
    if not notebooks:
        raise FileNotFoundError(f"no notebooks (*.ipynb) in {src_dir}")
    targets = [dest / path.name for path in files]
    for target in targets:  # dest_dir is src_dir, or holds a link to a source
        if target.exists() and target.resolve() in files:
            raise ValueError(f"{target} is a source file ({target.resolve()}): its copy would "
                             "replace it; choose another folder, e.g. student")
    existing = [str(target) for target in targets if target.exists()]
    if existing and not force:
        raise FileExistsError(
            f"{len(existing)} file(s) already in {dest_dir} (a learner's work?): "
            f"{', '.join(existing)}; nothing written. Remove them, choose another folder, or "
            "pass --force to overwrite them")
    copies = {path: student_copy(nb, path.name) for path, nb in notebooks.items()}
    dest.mkdir(parents=True, exist_ok=True)
    for path, target in zip(files, targets, strict=True):
        if path in copies:
            student, blocks = copies[path]
            write_notebook(target, student)
            print(f"wrote {target} ({blocks} solution block(s) cleared by nbgrader)")
        else:
            with atomic_write(target) as tmp:
                tmp.write_bytes(path.read_bytes())
            print(f"copied {target}")
    return targets


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m vae_tutorial.student_copy",
                                     description="Student copies of the notebooks, by nbgrader.")
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="write copies without the solutions")
    write.add_argument("src_dir", metavar="SRC_DIR")
    write.add_argument("dest_dir", metavar="DEST_DIR")
    write.add_argument("--force", action="store_true",
                       help="overwrite copies already in DEST_DIR (learners' edits are lost)")
    stamp_cmd = commands.add_parser(
        "stamp", help="give solution cells nbgrader's metadata (idempotent)")
    stamp_cmd.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    args = parser.parse_args(argv)
    try:
        if args.command == "write":
            write_student_copies(args.src_dir, args.dest_dir, force=args.force)
        else:  # stamp: read all first, then write those it changes
            notebooks = [(Path(p), read_notebook(p)) for p in args.notebooks]
            for path, nb in notebooks:
                if changed := stamp(nb, path.name):
                    write_notebook(path, nb)
                print(f"{path}: {changed} cell(s) stamped" if changed else f"{path}: up to date")
    except (ValueError, OSError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
