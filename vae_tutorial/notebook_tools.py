"""Maintainer tools that read and write the course notebooks (no TensorFlow needed).

Command line (the Makefile's ``execute`` and ``student`` targets call it)::

    python -m vae_tutorial.notebook_tools execute notebooks/*.ipynb
    python -m vae_tutorial.notebook_tools student notebooks student
    python -m vae_tutorial.notebook_tools schedule notebooks/*.ipynb

``execute`` runs each notebook top to bottom in a fresh kernel with the offline data
(``VAE_TUTORIAL_OFFLINE=1``) and stores its outputs, recording in every code cell the
SHA-256 of the source it ran (``metadata["vae_tutorial"]["source_sha256"]``), so that
:func:`freshness_problems` can tell when committed outputs no longer match the code.

``student`` writes copies without solutions. Solutions are marked as in nbgrader: the
lines ``### BEGIN SOLUTION`` and ``### END SOLUTION`` inside a code or markdown cell.

This module deliberately imports only the standard library, nbformat and nbclient
(it must never pull in TensorFlow, keras or matplotlib).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import re
import stat
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat import NotebookNode

KERNEL_NAME = "python3"
CELL_TIMEOUT = 600  # seconds per cell
OFFLINE_ENV = {"VAE_TUTORIAL_OFFLINE": "1"}
METADATA_KEY = "vae_tutorial"
HASH_KEY = "source_sha256"
FIX = "run `make execute`"

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = ("*Your answer here.*",)

HEADER_EXAMPLE = "**Teaching:** 25 min · **Exercises:** 15 min · **Prerequisites:** ..."
_HEADER_RE = re.compile(
    r"^\*\*Teaching:\*\*\s*(?P<teaching>\d+)\s*min\s*·\s*"
    r"\*\*Exercises:\*\*\s*(?P<exercises>\d+)\s*min\s*·\s*"
    r"\*\*Prerequisites:\*\*\s*(?P<prerequisites>\S.*?)\s*$"
)
_TITLE_RE = re.compile(r"^#\s+(?P<title>\S.*?)\s*$")


# --------------------------------------------------------------------------- hashing


def source_sha256(source: str | list[str]) -> str:
    """SHA-256 (hex) of a cell source (a string, or the list-of-lines form of raw JSON)."""
    if not isinstance(source, str):
        source = "".join(source)
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def _recorded_hash(cell: NotebookNode) -> str | None:
    info = cell.get("metadata", {}).get(METADATA_KEY)
    if not isinstance(info, dict):
        return None
    return info.get(HASH_KEY)


# --------------------------------------------------------------------------- executing


def run_notebook(
    nb: NotebookNode,
    cwd: str | os.PathLike,
    *,
    timeout: int = CELL_TIMEOUT,
    kernel_name: str = KERNEL_NAME,
) -> float:
    """Execute ``nb`` in place in a fresh kernel started in ``cwd``; return the wall time (s).

    The kernel's environment is this process's with ``VAE_TUTORIAL_OFFLINE=1`` forced.
    Before executing, each code cell's source hash is recorded in its metadata. The wall
    time covers the whole execution, kernel start and shutdown included. Raises
    ``nbclient.exceptions.CellExecutionError`` if a cell raises.
    """
    from nbclient import NotebookClient  # only needed here; keeps `schedule` etc. light

    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata.setdefault(METADATA_KEY, {})[HASH_KEY] = source_sha256(cell.source)
    client = NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=timeout,
        record_timing=False,  # timestamps would make every re-execution a diff
        resources={"metadata": {"path": str(cwd)}},
    )
    start = time.perf_counter()
    client.execute(env={**os.environ, **OFFLINE_ENV})
    return time.perf_counter() - start


def write_notebook_atomic(nb: NotebookNode, path: str | os.PathLike) -> None:
    """Write ``nb`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            nbformat.write(nb, handle)
        try:
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def execute_notebook(path: str | os.PathLike, *, timeout: int = CELL_TIMEOUT) -> float:
    """Execute the notebook at ``path`` (cwd = its folder) and write it back with outputs.

    Returns the wall time in seconds. If a cell fails (or times out, or the kernel dies)
    the exception propagates and the file is left untouched.
    """
    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    seconds = run_notebook(nb, path.parent, timeout=timeout)
    write_notebook_atomic(nb, path)
    return seconds


# --------------------------------------------------------------------------- freshness


def freshness_problems(nb: NotebookNode) -> list[str]:
    """Return why the stored outputs of ``nb`` may be stale ([] when they are fresh).

    Cells are numbered from 1 among all cells. Problems: empty code cells; non-empty code
    cells never executed; execution counts of non-empty code cells that are not exactly
    1, 2, 3, ... in order; code cells whose source differs from the source last executed
    by ``make execute`` (or with no recorded hash at all).
    """
    problems: list[str] = []
    expected = 0
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        if not cell.source.strip():
            problems.append(f"cell {number}: empty code cell; delete it")
            continue
        expected += 1
        count = cell.get("execution_count")
        if count is None:
            problems.append(f"cell {number}: code cell was never executed; {FIX}")
        elif count != expected:
            problems.append(
                f"cell {number}: execution count is {count}, expected {expected} "
                f"(out-of-order or partial execution); {FIX}"
            )
        recorded = _recorded_hash(cell)
        if recorded is None:
            problems.append(
                f"cell {number}: no source hash recorded (outputs not produced by "
                f"`make execute`); {FIX}"
            )
        elif recorded != source_sha256(cell.source):
            problems.append(f"cell {number}: source edited since it was last executed; {FIX}")
    return problems


# --------------------------------------------------------------------------- solutions


class SolutionMarkerError(ValueError):
    """Unbalanced or nested ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers."""


def _marker(line: str) -> str | None:
    stripped = line.strip()
    if stripped == BEGIN_SOLUTION:
        return "begin"
    if stripped == END_SOLUTION:
        return "end"
    return None


def _strip_cell_source(source: str, stub: tuple[str, ...], where: str) -> tuple[str, int]:
    """Return (source with each solution block replaced by ``stub``, number of blocks)."""
    out: list[str] = []
    blocks = 0
    begin_line = None
    for line_number, line in enumerate(source.splitlines(keepends=True), start=1):
        kind = _marker(line)
        if kind == "begin":
            if begin_line is not None:
                raise SolutionMarkerError(
                    f"{where}: nested '{BEGIN_SOLUTION}' on line {line_number} (the block "
                    f"opened on line {begin_line} is not closed); add '{END_SOLUTION}' first"
                )
            begin_line = line_number
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(f"{indent}{stub_line}\n" for stub_line in stub)
        elif kind == "end":
            if begin_line is None:
                raise SolutionMarkerError(
                    f"{where}: '{END_SOLUTION}' on line {line_number} without a matching "
                    f"'{BEGIN_SOLUTION}' before it"
                )
            begin_line = None
            blocks += 1
        elif begin_line is None:
            out.append(line)
    if begin_line is not None:
        raise SolutionMarkerError(
            f"{where}: '{BEGIN_SOLUTION}' on line {begin_line} is never closed; "
            f"add '{END_SOLUTION}' in the same cell"
        )
    text = "".join(out)
    if blocks and not source.endswith("\n"):
        text = text.removesuffix("\n")
    return text, blocks


def _cell_where(name: str, number: int) -> str:
    return f"{name}, cell {number}"


def count_solutions(nb: NotebookNode, name: str = "notebook") -> int:
    """Number of solution blocks in ``nb`` (raises ``SolutionMarkerError`` if malformed)."""
    total = 0
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type in ("code", "markdown"):
            _, blocks = _strip_cell_source(cell.source, CODE_STUB, _cell_where(name, number))
            total += blocks
    return total


def strip_solutions(nb: NotebookNode, name: str = "notebook") -> NotebookNode:
    """Return a student copy of ``nb``: solutions replaced by stubs, ``nb`` left unchanged.

    Code solutions become ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` at the
    marker's indentation, markdown ones ``*Your answer here.*``. Cells that held a solution
    lose their outputs and execution count; the recorded source hashes are removed.
    """
    student = copy.deepcopy(nb)
    for number, cell in enumerate(student.cells, start=1):
        if cell.cell_type not in ("code", "markdown"):
            continue
        stub = CODE_STUB if cell.cell_type == "code" else MARKDOWN_STUB
        source, blocks = _strip_cell_source(cell.source, stub, _cell_where(name, number))
        if cell.cell_type == "code":
            cell.metadata.pop(METADATA_KEY, None)
        if blocks:
            cell.source = source
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
    return student


def write_student_copies(src_dir: str | os.PathLike, dest_dir: str | os.PathLike) -> list[Path]:
    """Write a student copy of every ``*.ipynb`` in ``src_dir`` to ``dest_dir``.

    All notebooks are checked before anything is written, so a marker error leaves no
    partial set of copies. Returns the paths written.
    """
    src_dir, dest_dir = Path(src_dir), Path(dest_dir)
    sources = sorted(src_dir.glob("*.ipynb"))
    if not sources:
        raise FileNotFoundError(f"no notebooks (*.ipynb) in {src_dir}")
    copies = []
    for path in sources:
        nb = nbformat.read(path, as_version=4)
        copies.append((path, count_solutions(nb, str(path)), strip_solutions(nb, str(path))))
    dest_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path, blocks, student in copies:
        target = dest_dir / path.name
        write_notebook_atomic(student, target)
        print(f"wrote {target} ({blocks} solution block(s) removed)")
        written.append(target)
    return written


# --------------------------------------------------------------------------- schedule


def parse_header(nb: NotebookNode, name: str = "notebook") -> dict:
    """Read title and timings from the first markdown cell of ``nb``.

    Expects a title line ``# 01 · Autoencoders: ...`` and a line of exactly the form
    ``**Teaching:** 25 min · **Exercises:** 15 min · **Prerequisites:** ...``. Returns
    ``dict(title=str, teaching=int, exercises=int, prerequisites=str)``; raises
    ``ValueError`` naming the notebook when either line is missing or malformed.
    """
    cell = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if cell is None:
        raise ValueError(f"{name}: has no markdown cell; the first one must hold the header")
    lines = [line.strip() for line in cell.source.splitlines()]
    title = next((m["title"] for line in lines if (m := _TITLE_RE.match(line))), None)
    if title is None:
        raise ValueError(
            f"{name}: the first markdown cell has no title line such as '# 01 · Autoencoders: ...'"
        )
    candidates = [line for line in lines if line.startswith("**Teaching")]
    if not candidates:
        raise ValueError(
            f"{name}: the first markdown cell has no timing line; add one of the form "
            f"'{HEADER_EXAMPLE}'"
        )
    match = _HEADER_RE.match(candidates[0])
    if match is None:
        raise ValueError(
            f"{name}: malformed timing line {candidates[0]!r}; expected the form '{HEADER_EXAMPLE}'"
        )
    return {
        "title": title,
        "teaching": int(match["teaching"]),
        "exercises": int(match["exercises"]),
        "prerequisites": match["prerequisites"],
    }


def schedule_markdown(paths: list[str | os.PathLike]) -> str:
    """The instructor's schedule for the notebooks at ``paths`` as a Markdown table."""
    rows = [
        "| Notebook | Title | Teaching (min) | Exercises (min) | Cumulative (min) |",
        "|---|---|---:|---:|---:|",
    ]
    total_teaching = total_exercises = 0
    for path in paths:
        path = Path(path)
        header = parse_header(nbformat.read(path, as_version=4), str(path))
        total_teaching += header["teaching"]
        total_exercises += header["exercises"]
        title = header["title"].replace("|", "\\|")
        rows.append(
            f"| {path.name} | {title} | {header['teaching']} | {header['exercises']} "
            f"| {total_teaching + total_exercises} |"
        )
    total = total_teaching + total_exercises
    rows.append(f"| **Total** | | {total_teaching} | {total_exercises} | {total} |")
    hours, minutes = divmod(total, 60)
    return "\n".join(rows) + f"\n\nTotal: {total} min ({hours} h {minutes:02d} min)"


# --------------------------------------------------------------------------- command line


def _cmd_execute(args: argparse.Namespace) -> int:
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    failed = []
    for path in args.notebooks:
        try:
            seconds = execute_notebook(path, timeout=args.timeout)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            print(f"{path}: FAILED, file left unchanged\n{exc}", file=sys.stderr)
            failed.append(path)
            continue
        print(f"{path}: executed in {seconds:.1f} s", flush=True)
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _cmd_student(args: argparse.Namespace) -> int:
    write_student_copies(args.src_dir, args.dest_dir)
    return 0


def _cmd_schedule(args: argparse.Namespace) -> int:
    print(schedule_markdown(args.notebooks))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m vae_tutorial.notebook_tools",
        description="Execute course notebooks, make student copies, print the schedule.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    execute = commands.add_parser(
        "execute",
        help="run notebooks top to bottom (offline data) and store their outputs in place",
    )
    execute.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    execute.add_argument(
        "--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell (default: 600)"
    )
    execute.set_defaults(func=_cmd_execute)

    student = commands.add_parser("student", help="write copies without solutions")
    student.add_argument("src_dir", metavar="SRC_DIR")
    student.add_argument("dest_dir", metavar="DEST_DIR")
    student.set_defaults(func=_cmd_student)

    schedule = commands.add_parser("schedule", help="print the teaching schedule (Markdown)")
    schedule.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    schedule.set_defaults(func=_cmd_schedule)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as exc:  # marker and header errors, missing files
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
