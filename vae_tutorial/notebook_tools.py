"""Maintainer tools that read and write the course notebooks (no TensorFlow needed).

Command line (the Makefile's ``execute`` and ``student`` targets call it)::

    python -m vae_tutorial.notebook_tools execute notebooks/*.ipynb
    python -m vae_tutorial.notebook_tools student notebooks student
    python -m vae_tutorial.notebook_tools schedule notebooks/*.ipynb
    python -m vae_tutorial.notebook_tools schedule --update-readme README.md notebooks/*.ipynb

``execute`` runs each notebook top to bottom in a fresh kernel with the offline data
(``VAE_TUTORIAL_OFFLINE=1``) and stores its outputs, recording in every code cell the
SHA-256 of the source it ran and of the outputs it produced
(``metadata["vae_tutorial"]["source_sha256"]`` and ``["outputs_sha256"]``), so that
:func:`freshness_problems` can tell when committed outputs no longer match the code, or
were deleted or edited by hand.

``schedule`` reads each notebook's timing line and its optional sections and exercises
(headings ending " (optional)") and prints, in Markdown, the minutes per notebook, a
one-day path (the core of every notebook) and a two-half-day path (every notebook whole).

``student`` writes copies without solutions. Solutions are marked as in nbgrader: the
lines ``### BEGIN SOLUTION`` and ``### END SOLUTION`` inside a code or markdown cell.

This module deliberately imports only the standard library, nbformat and nbclient
(it must never pull in TensorFlow, keras or matplotlib).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import itertools
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .files import atomic_write

KERNEL_NAME = "python3"
CELL_TIMEOUT = 600  # seconds per cell
OFFLINE_ENV = {"VAE_TUTORIAL_OFFLINE": "1"}
METADATA_KEY = "vae_tutorial"
HASH_KEY = "source_sha256"
OUTPUTS_KEY = "outputs_sha256"
FIX = "run `make execute`"

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = ("*Your answer here.*",)

# --------------------------------------------------------------------------- hashing


def source_sha256(source: str | list[str]) -> str:
    """SHA-256 (hex) of a cell source (a string, or the list-of-lines form of raw JSON)."""
    if not isinstance(source, str):
        source = "".join(source)
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def _joined(value):
    """A multi-line string field as one string (nbformat may store it as a list of lines)."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "".join(value)
    return value


def outputs_sha256(outputs: list) -> str:
    """SHA-256 (hex) of a code cell's outputs, the same before and after a save and load.

    Text stored as a list of lines is joined first and keys are sorted, so only a change
    of content (an output deleted, added or edited) changes the hash.
    """
    canonical = []
    for output in outputs:
        output = {key: value for key, value in output.items() if key != "transient"}
        for key in ("text", "traceback"):
            if key in output:
                output[key] = _joined(output[key])
        if "data" in output:
            output["data"] = {mime: _joined(value) for mime, value in output["data"].items()}
        canonical.append(output)
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- executing


def run_notebook(nb: NotebookNode, cwd: str | os.PathLike, *, timeout: int = CELL_TIMEOUT) -> float:
    """Execute ``nb`` in place in a fresh kernel started in ``cwd``; return the wall time (s).

    The kernel's environment is this process's with ``VAE_TUTORIAL_OFFLINE=1`` forced.
    Each code cell's metadata records the hash of the source it ran and of the outputs it
    produced. The wall time covers the whole execution, kernel start and shutdown
    included. Raises ``nbclient.exceptions.CellExecutionError`` if a cell raises.
    """
    from nbclient import NotebookClient  # only needed here; keeps `schedule` etc. light

    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata.setdefault(METADATA_KEY, {})[HASH_KEY] = source_sha256(cell.source)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=timeout,
        record_timing=False,  # timestamps would make every re-execution a diff
        resources={"metadata": {"path": str(cwd)}},
    )
    start = time.perf_counter()
    client.execute(env={**os.environ, **OFFLINE_ENV})
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata[METADATA_KEY][OUTPUTS_KEY] = outputs_sha256(cell.outputs)
    return seconds


def write_text_atomic(text: str, path: str | os.PathLike) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (:func:`vae_tutorial.files.atomic_write`)."""
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def write_notebook_atomic(nb: NotebookNode, path: str | os.PathLike) -> None:
    """Write ``nb`` to ``path`` as nbformat does, atomically (:func:`write_text_atomic`)."""
    text = nbformat.writes(nb)
    write_text_atomic(text if text.endswith("\n") else text + "\n", path)


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
    by ``make execute`` (or with no recorded hash at all); code cells whose stored outputs
    differ from the outputs that execution produced (an output deleted, added or edited
    by hand, even with the execution count kept), or with no outputs hash recorded.
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
        record = cell.get("metadata", {}).get(METADATA_KEY)
        record = record if isinstance(record, dict) else {}
        if HASH_KEY not in record:
            problems.append(
                f"cell {number}: no source hash recorded (outputs not produced by "
                f"`make execute`); {FIX}"
            )
        elif record[HASH_KEY] != source_sha256(cell.source):
            problems.append(f"cell {number}: source edited since it was last executed; {FIX}")
        elif OUTPUTS_KEY not in record:
            problems.append(
                f"cell {number}: no outputs hash recorded (executed by an older "
                f"`notebook_tools execute`); {FIX}"
            )
        elif record[OUTPUTS_KEY] != outputs_sha256(cell.get("outputs", [])):
            problems.append(
                f"cell {number}: stored outputs differ from those its execution produced "
                f"(an output deleted, added or edited since); {FIX}"
            )
    return problems


# --------------------------------------------------------------------------- solutions


class SolutionMarkerError(ValueError):
    """Unbalanced or nested ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers."""


def _strip_cell_source(source: str, stub: tuple[str, ...], where: str) -> tuple[str, int]:
    """Return (source with each solution block replaced by ``stub``, number of blocks)."""
    out: list[str] = []
    blocks = 0
    begin_line = None
    for line_number, line in enumerate(source.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker == BEGIN_SOLUTION:
            if begin_line is not None:
                raise SolutionMarkerError(
                    f"{where}: nested '{BEGIN_SOLUTION}' on line {line_number} (the block "
                    f"opened on line {begin_line} is not closed); add '{END_SOLUTION}' first"
                )
            begin_line = line_number
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(f"{indent}{stub_line}\n" for stub_line in stub)
        elif marker == END_SOLUTION:
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


def count_solutions(nb: NotebookNode, name: str = "notebook") -> int:
    """Number of solution blocks in ``nb`` (raises ``SolutionMarkerError`` if malformed)."""
    total = 0
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type in ("code", "markdown"):
            _, blocks = _strip_cell_source(cell.source, CODE_STUB, f"{name}, cell {number}")
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
        source, blocks = _strip_cell_source(cell.source, stub, f"{name}, cell {number}")
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

HEADER_EXAMPLE = (
    "**Teaching:** 45 min (core 30) · **Exercises:** 30 min (core 15) · **Prerequisites:** ..."
)
_HEADER_RE = re.compile(
    r"^\*\*Teaching:\*\*\s*(?P<teaching>\d+)\s*min(?:\s*\(core\s+(?P<core_teaching>\d+)\))?"
    r"\s*·\s*\*\*Exercises:\*\*\s*(?P<exercises>\d+)\s*min"
    r"(?:\s*\(core\s+(?P<core_exercises>\d+)\))?"
    r"\s*·\s*\*\*Prerequisites:\*\*\s*(?P<prerequisites>\S.*?)\s*$"
)
_HEADING_RE = re.compile(r"^(?P<level>#{1,6})\s+(?P<text>\S.*?)\s*$")  # level 1: the title
_EXERCISE_HEADING_RE = re.compile(r"^Exercise\s+(?P<number>\d+)\b")
_OPTIONAL_RE = re.compile(r"[(\[]\s*optional\s*[)\]]", re.IGNORECASE)
_FENCE_RE = re.compile(r"^\s*(```|~~~)")
OPTIONAL_SUFFIX = " (optional)"

DAY_START = 9 * 60  # 09:00, in minutes after midnight
DAY_MINUTES = 360  # teaching incl. exercises in a one-day workshop (breaks not counted)
HALF_DAY_MINUTES = 210  # the same for a half day
# (name, minutes, teaching minutes after which it falls); placed at the nearest boundary.
DAY_BREAKS = (("Morning break", 15, 90), ("Lunch", 60, 180), ("Afternoon break", 15, 270))
HALF_DAY_BREAK = ("Break", 15)
MIN_AFTER_BREAK = 30  # no break unless this much teaching is left after its time

SCHEDULE_START = "<!-- schedule:start -->"
SCHEDULE_END = "<!-- schedule:end -->"


@dataclass(frozen=True)
class Part:
    """A section or exercise heading of a notebook; cell and line numbered from 1."""

    kind: str  # "section" or "exercise"
    title: str  # the heading's text without '#'s and without " (optional)"
    optional: bool
    cell: int
    line: int


@dataclass(frozen=True)
class NotebookPlan:
    """A notebook's timings (minutes) and its headings, as the schedule needs them."""

    name: str  # file name, e.g. "03_kl_divergence.ipynb"
    title: str
    teaching: int
    core_teaching: int
    exercises: int
    core_exercises: int
    prerequisites: str
    parts: tuple[Part, ...]

    @property
    def number(self) -> str:
        """The two-digit prefix of the file name ("03")."""
        return self.name.split("_", 1)[0]

    def optional_parts(self, kind: str) -> list[Part]:
        return [part for part in self.parts if part.kind == kind and part.optional]

    def core_exercise_numbers(self) -> list[int]:
        return [
            int(_EXERCISE_HEADING_RE.match(part.title)["number"])
            for part in self.parts
            if part.kind == "exercise" and not part.optional
        ]


def parse_header(nb: NotebookNode, name: str = "notebook") -> dict:
    """Read title and timings from the first markdown cell of ``nb``.

    Expects a title line ``# 01 · Autoencoders: ...`` and a timing line of exactly the form
    ``**Teaching:** 45 min (core 30) · **Exercises:** 30 min (core 15) · **Prerequisites:**
    ...``; each ``(core N)`` may be left out when all of it is core (then core = total).
    Returns ``dict(title, teaching, core_teaching, exercises, core_exercises, prerequisites,
    cell, line)`` (minutes as int; cell and line of the timing line, from 1). Raises
    ``ValueError`` naming the notebook, cell and line when a line is missing or malformed,
    or a core time exceeds its total.
    """
    number, cell = next(
        ((n, c) for n, c in enumerate(nb.cells, start=1) if c.cell_type == "markdown"),
        (None, None),
    )
    if cell is None:
        raise ValueError(f"{name}: has no markdown cell; the first one must hold the header")
    lines = [line.strip() for line in cell.source.splitlines()]
    title = next((m["text"] for line in lines
                  if (m := _HEADING_RE.match(line)) and m["level"] == "#"), None)
    if title is None:
        raise ValueError(f"{name}, cell {number}: no title line such as '# 01 · Autoencoders: ...'")
    line_number = next((i for i, line in enumerate(lines, 1) if line.startswith("**Teaching")), 0)
    where = f"{name}, cell {number}, line {line_number}"
    if not line_number:
        raise ValueError(f"{name}, cell {number}: no timing line; add one of the form "
                         f"'{HEADER_EXAMPLE}'")
    match = _HEADER_RE.match(lines[line_number - 1])
    if match is None:
        raise ValueError(f"{where}: malformed timing line {lines[line_number - 1]!r}; expected "
                         f"the form '{HEADER_EXAMPLE}'")
    header = {"title": title, "prerequisites": match["prerequisites"], "cell": number,
              "line": line_number}
    for key in ("teaching", "exercises"):
        total, core = int(match[key]), match[f"core_{key}"]
        header[key] = total
        header[f"core_{key}"] = core = total if core is None else int(core)
        if core > total:
            raise ValueError(f"{where}: {key} has core {core} min, more than its total {total} "
                             f"min; the core is the part of the total that the one-day path keeps")
    return header


def parse_parts(nb: NotebookNode, name: str = "notebook") -> list[Part]:
    """The section and exercise headings (levels 2-6) of ``nb``'s markdown cells, in order.

    A heading is an exercise when its text starts with ``Exercise <number>``, else a
    section; it is optional when it ends with " (optional)". Headings inside fenced code and
    nbgrader solution markers are skipped. Raises ``ValueError`` naming the notebook, cell
    and line for an "optional" marker written any other way ("(Optional)", "[optional]",
    not at the end).
    """
    parts = []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "markdown":
            continue
        fenced = False
        for line_number, line in enumerate(cell.source.splitlines(), start=1):
            if _FENCE_RE.match(line):
                fenced = not fenced
            match = _HEADING_RE.match(line.rstrip())
            if (fenced or match is None or match["level"] == "#"
                    or line.strip() in (BEGIN_SOLUTION, END_SOLUTION)):
                continue
            text = match["text"]
            optional = text.endswith(OPTIONAL_SUFFIX)
            title = text.removesuffix(OPTIONAL_SUFFIX).rstrip()
            if _OPTIONAL_RE.search(title):
                raise ValueError(
                    f"{name}, cell {number}, line {line_number}: heading {line.strip()!r} "
                    f"marks something optional in a way the schedule cannot read; end the "
                    f"heading with exactly '{OPTIONAL_SUFFIX}'"
                )
            kind = "exercise" if _EXERCISE_HEADING_RE.match(title) else "section"
            parts.append(Part(kind, title, optional, number, line_number))
    return parts


def read_plan(nb: NotebookNode, name: str = "notebook") -> NotebookPlan:
    """Header and headings of ``nb``, checked against each other.

    A notebook with optional sections (exercises) must give a smaller core teaching
    (exercise) time, and one with a smaller core time must mark what is optional; otherwise
    ``ValueError`` names the notebook, the timing line and the fix.
    """
    header = parse_header(nb, name)
    parts = parse_parts(nb, name)
    where = f"{name}, cell {header['cell']}, line {header['line']}"
    for kind, key in (("section", "teaching"), ("exercise", "exercises")):
        optional = [part.title for part in parts if part.kind == kind and part.optional]
        total, core = header[key], header[f"core_{key}"]
        if optional and core == total:
            raise ValueError(
                f"{where}: {kind}(s) {', '.join(map(repr, optional))} are marked optional, "
                f"but the {key} minutes have no smaller core; write '{total} min (core N)' "
                f"with N the minutes without them"
            )
        if core < total and not optional:
            raise ValueError(
                f"{where}: {key} is {total} min (core {core}), but no {kind} heading ends "
                f"with '{OPTIONAL_SUFFIX}'; mark the optional {kind}s, or make the core "
                f"equal to the total"
            )
    del header["cell"], header["line"]
    return NotebookPlan(name=name, **header, parts=tuple(parts))


def read_plans(paths: list[str | os.PathLike]) -> list[NotebookPlan]:
    """:func:`read_plan` for the notebook files at ``paths``, in the order given."""
    if not paths:
        raise ValueError("no notebooks given")
    return [read_plan(nbformat.read(Path(p), as_version=4), Path(p).name) for p in paths]


@dataclass(frozen=True)
class Slot:
    """One row of a timetable: a piece of a notebook, or a break (``plan`` is None)."""

    plan: NotebookPlan | None
    what: str
    minutes: int
    start: int  # minutes after midnight

    @property
    def end(self) -> int:
        return self.start + self.minutes


def timetable(items: list[tuple[NotebookPlan, str, int]], breaks: tuple[tuple[str, int, int], ...]
              ) -> list[Slot]:
    """Lay ``items`` (plan, what, minutes) end to end from DAY_START, with breaks between.

    Each break ``(name, minutes, target)`` goes at the boundary between two items whose
    elapsed teaching time is nearest ``target`` minutes (the earlier one on a tie), after
    the previous break; it is left out when fewer than ``MIN_AFTER_BREAK`` teaching minutes
    would follow ``target``, or no boundary is left. Items of 0 minutes are dropped.
    """
    items = [item for item in items if item[2] > 0]
    elapsed = list(itertools.accumulate(minutes for _, _, minutes in items))
    total = elapsed[-1] if elapsed else 0
    after: dict[int, tuple[str, int]] = {}
    last = -1
    for name, minutes, target in breaks:
        candidates = range(last + 1, len(items) - 1)
        if total < target + MIN_AFTER_BREAK or not candidates:
            continue
        last = min(candidates, key=lambda i: (abs(elapsed[i] - target), i))
        after[last] = (name, minutes)
    slots, clock = [], DAY_START
    for index, (plan, what, minutes) in enumerate(items):
        slots.append(Slot(plan, what, minutes, clock))
        clock += minutes
        if index in after:
            name, minutes = after[index]
            slots.append(Slot(None, name, minutes, clock))
            clock += minutes
    return slots


def _exercise_label(numbers: list[int]) -> str:
    if not numbers:
        return "exercises"
    word = "Exercise" if len(numbers) == 1 else "Exercises"
    return f"{word} {', '.join(map(str, numbers))}"


def one_day_items(plans: list[NotebookPlan], core: bool = True) -> list[tuple]:
    """(plan, what, minutes) of the one-day path: the core sections, then the core
    exercises, of every notebook; with ``core=False`` every section (the half-day path)."""
    items = []
    for plan in plans:
        sections = "core sections" if core and plan.optional_parts("section") else "all sections"
        items.append((plan, sections, plan.core_teaching if core else plan.teaching))
        exercises = _exercise_label(plan.core_exercise_numbers())
        items.append((plan, exercises, plan.core_exercises))
    return items


def half_day_items(plans: list[NotebookPlan]) -> list[tuple]:
    """(plan, what, minutes) of the two-half-day path: every section, then the core
    exercises, of every notebook (the optional exercises are homework)."""
    return one_day_items(plans, core=False)


def split_in_two(plans: list[NotebookPlan]) -> int:
    """Index at which to cut ``plans`` (two or more) into two half days of whole notebooks.

    The cut makes the longer half as short as possible (the earlier cut on a tie).
    """
    if len(plans) < 2:
        raise ValueError("two half days need at least two notebooks")
    totals = [plan.teaching + plan.core_exercises for plan in plans]
    return min(
        range(1, len(plans)),
        key=lambda cut: (max(sum(totals[:cut]), sum(totals[cut:])), cut),
    )


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _duration(minutes: int) -> str:
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"


def _span(plans: list[NotebookPlan]) -> str:
    first, last = plans[0].number, plans[-1].number
    return f"notebook {first}" if len(plans) == 1 else f"notebooks {first}-{last}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _timetable_markdown(slots: list[Slot], capacity: int, unit: str, prefix: str = "") -> list[str]:
    teaching = sum(slot.minutes for slot in slots if slot.plan is not None)
    spare = capacity - teaching
    fit = f"{_duration(spare)} to spare" if spare >= 0 else f"{_duration(-spare)} too long"
    breaks = sum(slot.minutes for slot in slots if slot.plan is None)
    lines = [
        f"{prefix}{_duration(teaching)} of teaching including exercises (a {unit} holds about "
        f"{_duration(capacity)}: {fit}), {_clock(slots[0].start)}-{_clock(slots[-1].end)}"
        + (f" including {breaks} min of breaks." if breaks else " without a break."),
        "",
        "| Time | Notebook | What | Min |",
        "|---|---|---|---:|",
    ]
    shown = None  # name each notebook on its first row only
    for slot in slots:
        notebook = _cell(slot.plan.title) if slot.plan and slot.plan != shown else ""
        shown = slot.plan or shown
        what = slot.what if slot.plan else f"*{slot.what}*"
        lines.append(
            f"| {_clock(slot.start)}-{_clock(slot.end)} | {notebook} | {what} | {slot.minutes} |"
        )
    return lines


def schedule_markdown(paths: list[str | os.PathLike]) -> str:
    """The instructor's schedule for the notebooks at ``paths``, in Markdown.

    Three parts: minutes per notebook with the optional sections and exercises; a one-day
    path (the core sections and core exercises of every notebook, from 09:00, with a
    morning break, lunch and an afternoon break); a two-half-day path (every section and
    the core exercises of every notebook, the optional exercises left as homework, cut at
    a notebook boundary into two halves of about equal length, each from 09:00 with one
    break). Each timetable says how its teaching time compares with a day
    of ``DAY_MINUTES`` or a half day of ``HALF_DAY_MINUTES``.
    """
    plans = read_plans(paths)
    lines = [
        "### Minutes per notebook",
        "",
        "| Notebook | Teaching | of which core | Exercises | of which core |",
        "|---|---:|---:|---:|---:|",
    ]
    keys = ("teaching", "core_teaching", "exercises", "core_exercises")
    for plan in plans:
        lines.append(f"| {_cell(plan.title)} | {' | '.join(str(getattr(plan, k)) for k in keys)} |")
    sums = [sum(getattr(plan, key) for plan in plans) for key in keys]
    lines.append("| **Total** | " + " | ".join(map(str, sums)) + " |")
    lines.append("")
    optional_lines = []
    for plan in plans:
        sections = [f'"{part.title}"' for part in plan.optional_parts("section")]
        exercises = [part.title for part in plan.optional_parts("exercise")]
        pieces = []
        if sections:
            pieces.append(("section " if len(sections) == 1 else "sections ") + ", ".join(sections))
        if exercises:
            pieces.append(", ".join(exercises))
        if pieces:
            optional_lines.append(f"- {_cell(plan.title)}: {'; '.join(pieces)}")
    if optional_lines:
        lines += ["Optional deep dives, left out of the one-day path:", "", *optional_lines]
        lines.append("- every other section and exercise is core")
    else:
        lines.append("No section or exercise is marked optional: everything is core.")

    lines += ["", f"### One day: the core of {_span(plans)}", ""]
    lines += _timetable_markdown(timetable(one_day_items(plans), DAY_BREAKS), DAY_MINUTES, "day")

    lines += ["", f"### Two half days: every section of {_span(plans)}", "",
              "Core exercises in class; the optional ones are homework.", ""]
    if len(plans) < 2:
        lines.append("Two half days need at least two notebooks.")
    else:
        cut = split_in_two(plans)
        for day, half in enumerate((plans[:cut], plans[cut:]), start=1):
            items = half_day_items(half)
            total = sum(minutes for _, _, minutes in items)
            slots = timetable(items, ((*HALF_DAY_BREAK, total // 2),))
            prefix = f"Half day {day}, {_span(half)}: "
            lines += [*_timetable_markdown(slots, HALF_DAY_MINUTES, "half day", prefix), ""]
        lines.pop()
    return "\n".join(lines)


def replace_schedule_block(text: str, block: str, name: str = "README") -> str:
    """``text`` with what lies between ``SCHEDULE_START`` and ``SCHEDULE_END`` set to ``block``.

    Raises ``ValueError`` naming ``name`` unless each marker occurs once, start before end.
    """
    starts, ends = text.count(SCHEDULE_START), text.count(SCHEDULE_END)
    if starts != 1 or ends != 1 or text.index(SCHEDULE_START) > text.index(SCHEDULE_END):
        raise ValueError(
            f"{name}: needs exactly one '{SCHEDULE_START}' line followed by one "
            f"'{SCHEDULE_END}' line (found {starts} and {ends}) where the schedule goes"
        )
    head, rest = text.split(SCHEDULE_START)
    _, tail = rest.split(SCHEDULE_END)
    return f"{head}{SCHEDULE_START}\n{block}\n{SCHEDULE_END}{tail}"


def schedule_block(text: str, name: str = "README") -> str:
    """The schedule currently between the markers in ``text`` (as written by the tool)."""
    replace_schedule_block(text, "", name)  # checks the markers
    inside = text.split(SCHEDULE_START)[1].split(SCHEDULE_END)[0]
    return inside.removeprefix("\n").removesuffix("\n")


def update_readme(readme: str | os.PathLike, paths: list[str | os.PathLike]) -> bool:
    """Write the schedule of ``paths`` between the markers in ``readme``; True if it changed."""
    readme = Path(readme)
    text = readme.read_text(encoding="utf-8")
    new = replace_schedule_block(text, schedule_markdown(paths), str(readme))
    if new != text:
        write_text_atomic(new, readme)
    return new != text


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
    if args.update_readme is None:
        print(schedule_markdown(args.notebooks))
    elif update_readme(args.update_readme, args.notebooks):
        print(f"updated the schedule in {args.update_readme}")
    else:
        print(f"the schedule in {args.update_readme} is up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vae_tutorial.notebook_tools",
        description="Execute course notebooks, make student copies, print the schedule.")
    commands = parser.add_subparsers(dest="command", required=True)
    execute = commands.add_parser(
        "execute", help="run notebooks top to bottom (offline data) and store their outputs")
    execute.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    execute.add_argument("--timeout", type=int, default=CELL_TIMEOUT,
                         help="seconds per cell (default: 600)")
    execute.set_defaults(func=_cmd_execute)
    student = commands.add_parser("student", help="write copies without solutions")
    student.add_argument("src_dir", metavar="SRC_DIR")
    student.add_argument("dest_dir", metavar="DEST_DIR")
    student.set_defaults(func=_cmd_student)
    schedule = commands.add_parser(
        "schedule", help="print the teaching schedule (Markdown): minutes, a one-day and a "
        "two-half-day path")
    schedule.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    schedule.add_argument(
        "--update-readme", metavar="README", help=f"write the schedule between the "
        f"'{SCHEDULE_START}' and '{SCHEDULE_END}' lines of this file instead of printing it")
    schedule.set_defaults(func=_cmd_schedule)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as exc:  # marker and header errors, missing files
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
