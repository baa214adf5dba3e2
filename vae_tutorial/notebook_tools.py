"""Maintainer tools for the course notebooks; imports no TensorFlow, keras or matplotlib.

    python -m vae_tutorial.notebook_tools execute notebooks/*.ipynb
    python -m vae_tutorial.notebook_tools schedule [--update INSTRUCTORS.md] notebooks/*.ipynb

``execute`` (the Makefile's ``execute`` target) runs notebooks and stores their outputs with
the hashes that :func:`freshness_problems` checks; ``schedule`` prints the teaching schedule
(:func:`schedule_markdown`) or updates it in the instructor guide. Student copies:
:mod:`vae_tutorial.student_copy`.
"""

from __future__ import annotations

import argparse
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

CELL_TIMEOUT = 600  # seconds per cell
METADATA_KEY = "vae_tutorial"  # a code cell's "source_sha256" and "outputs_sha256"
FIX = "run `make execute`"


# --------------------------------------------------------------------------- executing


def source_sha256(source: str | list[str]) -> str:
    """SHA-256 (hex) of a cell source (or any text), as a string or a list of lines."""
    return hashlib.sha256("".join(source).encode("utf-8")).hexdigest()


def _joined(value):
    """A string stored as a list of lines (as nbformat saves it) as one string."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "".join(value)
    return value


def outputs_sha256(outputs: list) -> str:
    """SHA-256 (hex) of a code cell's outputs; unchanged by a save and load."""
    canonical = []
    for output in outputs:
        output = {key: _joined(value) for key, value in output.items() if key != "transient"}
        if "data" in output:
            output["data"] = {mime: _joined(value) for mime, value in output["data"].items()}
        canonical.append(output)
    return source_sha256(
        json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":")))


def run_notebook(nb: NotebookNode, cwd: str | os.PathLike, env: dict[str, str] | None = None,
                 timeout: int = CELL_TIMEOUT) -> float:
    """Execute ``nb`` in place in a fresh kernel in ``cwd``, recording each code cell's source
    and outputs hashes; return the wall time in seconds. ``env``: the kernel's environment
    (default: this process's, with ``VAE_TUTORIAL_OFFLINE=1``); ``timeout``: seconds per cell."""
    from nbclient import NotebookClient  # only needed here; keeps `schedule` etc. light

    # record_timing=False: timestamps would make every re-execution a diff
    client = NotebookClient(nb, kernel_name="python3", timeout=timeout, record_timing=False,
                            resources={"metadata": {"path": str(cwd)}})
    start = time.perf_counter()
    client.execute(env={**os.environ, "VAE_TUTORIAL_OFFLINE": "1"} if env is None else env)
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata[METADATA_KEY] = {"source_sha256": source_sha256(cell.source),
                                           "outputs_sha256": outputs_sha256(cell.outputs)}
    return seconds


def _write(path: str | os.PathLike, text: str) -> None:
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


class NotebookError(ValueError):
    """A file that is not a readable, valid notebook."""


def read_notebook(path: str | os.PathLike) -> NotebookNode:
    """The notebook at ``path``; ``NotebookError`` (a one-line reason, no traceback) if the
    file is missing, not JSON, or not a valid version-4 notebook."""
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except OSError as exc:
        raise NotebookError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except nbformat.reader.NotJSONError as exc:  # raised from json's error, which says where
        raise NotebookError(f"{path}: not a notebook: not valid JSON ({exc.__cause__})") from None
    except Exception as exc:  # JSON that nbformat cannot read as a version-4 notebook
        raise NotebookError(f"{path}: not a valid notebook ({getattr(exc, 'message', exc)}); "
                            "restore it from git, or open and save it in JupyterLab") from None
    return nb


def write_notebook(path: str | os.PathLike, nb: NotebookNode) -> None:
    """Write ``nb`` to ``path`` atomically, as nbformat formats it (the repository's style)."""
    _write(path, nbformat.writes(nb) + "\n")


def execute_notebook(path: str | os.PathLike) -> float:
    """Execute the notebook at ``path`` (cwd: its folder) and write it back with its outputs;
    return the wall time in seconds. If a cell fails the error propagates, the file untouched."""
    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    seconds = run_notebook(nb, path.parent)
    write_notebook(path, nb)
    return seconds


def freshness_problems(nb: NotebookNode) -> list[str]:
    """Why the stored outputs of ``nb`` may not be those of its code ([] when fresh): empty
    or unexecuted code cells, execution counts not 1, 2, 3, ..., sources or outputs that
    differ from what ``make execute`` ran and produced, or no hashes of them."""
    problems = []
    code = [(n, cell) for n, cell in enumerate(nb.cells, start=1) if cell.cell_type == "code"]
    expected = 0
    for number, cell in code:
        if not cell.source.strip():
            problems.append(f"cell {number}: empty code cell; delete it")
            continue
        expected += 1
        count = cell.execution_count
        if count != expected:
            why = ("code cell was never executed" if count is None else f"execution count is "
                   f"{count}, expected {expected} (out-of-order or partial execution)")
            problems.append(f"cell {number}: {why}; {FIX}")
        hashes = cell.metadata.get(METADATA_KEY, {})
        if "source_sha256" not in hashes:
            why = "no source hash recorded (outputs not produced by `make execute`)"
        elif hashes["source_sha256"] != source_sha256(cell.source):
            why = "source edited since it was last executed"
        elif "outputs_sha256" not in hashes:
            why = "no outputs hash recorded (executed by an older `notebook_tools execute`)"
        elif hashes["outputs_sha256"] != outputs_sha256(cell.outputs):
            why = ("stored outputs differ from those its execution produced (an output "
                   "deleted, added or edited since)")
        else:
            continue
        problems.append(f"cell {number}: {why}; {FIX}")
    return problems


# --------------------------------------------------------------------------- schedule

HEADER_EXAMPLE = ("**Teaching:** 45 min (core 30) · **Exercises:** 30 min (core 15) · "
                  "**Prerequisites:** ...")
_MINUTES = r"\*\*{0}:\*\*\s*(?P<{1}>\d+)\s*min(?:\s*\(core\s+(?P<core_{1}>\d+)\))?\s*·\s*"
_HEADER_RE = re.compile(
    "^" + _MINUTES.format("Teaching", "teaching") + _MINUTES.format("Exercises", "exercises")
    + r"\*\*Prerequisites:\*\*\s*\S")
_HEADING_RE = re.compile(r"^(?P<level>#{1,6})\s+(?P<text>\S.*?)\s*$")  # level 1: the title
_EXERCISE_RE = re.compile(r"^Exercise\s+(?P<number>\d+)\b")
_OPTIONAL_RE = re.compile(r"[(\[]\s*optional\s*[)\]]", re.IGNORECASE)
_FENCE_RE = re.compile(r"^\s*(```|~~~)")
OPTIONAL_SUFFIX = " (optional)"

DAY_START = 9 * 60  # 09:00, in minutes after midnight
MIN_AFTER_BREAK = 30  # no break unless this much teaching is left after its time
Break = tuple[str, int, int | None]  # name, minutes, teaching minutes before it (None: half)
FOUNDATIONS_LAST = 6  # the foundations end with notebook 06; the advanced part follows

SCHEDULE_START = "<!-- schedule:start -->"
SCHEDULE_END = "<!-- schedule:end -->"


@dataclass(frozen=True)
class Format:
    """A way to teach a part: in days of its core sections (``core``) or in half days of
    every section. ``capacity``: the minutes of teaching incl. exercises a session holds
    (breaks not counted); each of ``breaks`` falls at the boundary nearest its time."""

    unit: str  # "day" or "half day"
    capacity: int
    core: bool
    breaks: tuple[Break, ...] = ()


DAY = Format("day", 360, core=True, breaks=(
    ("Morning break", 15, 90), ("Lunch", 60, 180), ("Afternoon break", 15, 270)))
HALF_DAY = Format("half day", 210, core=False, breaks=(("Break", 15, None),))
FORMATS = (DAY, HALF_DAY)


@dataclass(frozen=True)
class NotebookPlan:
    """What the schedule needs of a notebook: title, minutes and optional headings."""

    name: str  # file name, e.g. "03_kl_divergence.ipynb"
    title: str
    teaching: int
    core_teaching: int
    exercises: int
    core_exercises: int
    optional_sections: tuple[str, ...]
    optional_exercises: tuple[str, ...]
    core_exercise_numbers: tuple[int, ...]


def _headings(nb: NotebookNode, name: str):
    """Yield (text without " (optional)", optional) for the markdown headings of levels 2-6
    outside fenced code; ``ValueError`` for "optional" written any other way."""
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "markdown":
            continue
        fenced = False
        for line_number, line in enumerate(cell.source.splitlines(), start=1):
            fenced ^= bool(_FENCE_RE.match(line))
            match = _HEADING_RE.match(line)
            if fenced or match is None or match["level"] == "#":
                continue
            title = match["text"].removesuffix(OPTIONAL_SUFFIX).rstrip()
            if _OPTIONAL_RE.search(title):
                raise ValueError(
                    f"{name}, cell {number}, line {line_number}: heading {line.strip()!r} "
                    f"marks something optional in a way the schedule cannot read; end the "
                    f"heading with exactly '{OPTIONAL_SUFFIX}'")
            yield title, match["text"].endswith(OPTIONAL_SUFFIX)


def read_plan(nb: NotebookNode, name: str) -> NotebookPlan:
    """The plan of ``nb``: its first markdown cell holds a ``# 01 · Title`` line and a timing
    line as in ``HEADER_EXAMPLE`` (a "(core N)" left out when all is core); ``ValueError``
    naming the notebook, cell and line if the header is malformed or disagrees with the
    headings that end with " (optional)"."""
    markdown = [(n, c) for n, c in enumerate(nb.cells, start=1) if c.cell_type == "markdown"]
    if not markdown:
        raise ValueError(f"{name}: has no markdown cell; the first one must hold the header")
    number, cell = markdown[0]
    lines = [line.strip() for line in cell.source.splitlines()]
    titles = [m["text"] for line in lines if (m := _HEADING_RE.match(line)) and m["level"] == "#"]
    if not titles:
        raise ValueError(f"{name}, cell {number}: no title line such as '# 01 · Autoencoders: ...'")
    timing = next((i for i, line in enumerate(lines) if line.startswith("**Teaching")), None)
    if timing is None:
        raise ValueError(
            f"{name}, cell {number}: no timing line; add one of the form '{HEADER_EXAMPLE}'")
    where = f"{name}, cell {number}, line {timing + 1}"
    match = _HEADER_RE.match(lines[timing])
    if match is None:
        raise ValueError(f"{where}: malformed timing line {lines[timing]!r}; expected the form "
                         f"'{HEADER_EXAMPLE}'")
    headings = list(_headings(nb, name))
    fields = {}
    for key, kind in (("teaching", "section"), ("exercises", "exercise")):
        optional = tuple(title for title, opt in headings
                         if opt and bool(_EXERCISE_RE.match(title)) == (kind == "exercise"))
        total = int(match[key])
        core = int(match[f"core_{key}"] or total)
        if core > total:
            raise ValueError(
                f"{where}: {key} has core {core} min, more than its total {total} min; the "
                f"core is the part of the total that the one-day path keeps")
        if bool(optional) != (core < total):  # the core is what the optional parts leave
            marked = (f"{kind}(s) {', '.join(map(repr, optional))} are marked optional" if optional
                      else f"no {kind} heading ends with '{OPTIONAL_SUFFIX}'")
            raise ValueError(f"{where}: {key} is {total} min (core {core}), but {marked}; the "
                             f"core is the minutes without the optional {kind}s: mark exactly "
                             f"those, and write '{total} min (core N)' (no core if none is)")
        fields |= {key: total, f"core_{key}": core, f"optional_{kind}s": optional}
    numbers = (int(m["number"]) for t, opt in headings if not opt and (m := _EXERCISE_RE.match(t)))
    return NotebookPlan(name, titles[0], **fields, core_exercise_numbers=tuple(numbers))


def read_plans(paths: list[str | os.PathLike]) -> list[NotebookPlan]:
    """:func:`read_plan` of each notebook file in ``paths``, in order."""
    return [read_plan(nbformat.read(Path(p), as_version=4), Path(p).name) for p in paths]


def path_items(plans: list[NotebookPlan], core: bool) -> list[tuple[NotebookPlan, str, int]]:
    """(plan, what, minutes) of a path: each notebook's sections (only the core ones if
    ``core``, as on the one-day path; all, as on the half days), then its core exercises."""
    items = []
    for plan in plans:
        sections = "core sections" if core and plan.optional_sections else "all sections"
        numbers = plan.core_exercise_numbers
        word = "Exercise" if len(numbers) == 1 else "Exercises"
        exercises = f"{word} {', '.join(map(str, numbers))}" if numbers else "exercises"
        items += [(plan, sections, plan.core_teaching if core else plan.teaching),
                  (plan, exercises, plan.core_exercises)]
    return items


def item_minutes(plans: list[NotebookPlan], core: bool) -> int:
    """Minutes of teaching incl. exercises of :func:`path_items` of ``plans``."""
    return sum(minutes for _, _, minutes in path_items(plans, core))


def split_parts(plans: list[NotebookPlan]) -> list[tuple[str, list[NotebookPlan]]]:
    """The course's parts that ``plans`` reach, as (name, plans): the foundations (numbers up
    to ``FOUNDATIONS_LAST``) and the advanced notebooks; ``ValueError`` for a notebook whose
    file name does not start with its two-digit number, or plans out of order."""
    for plan in plans:
        if not re.match(r"\d\d_", plan.name):
            raise ValueError(f"{plan.name}: a course notebook's file name starts with its "
                             f"two-digit number and an underscore, e.g. 07_beta_vae.ipynb")
    if [plan.name[:2] for plan in plans] != sorted(plan.name[:2] for plan in plans):
        raise ValueError(f"notebooks out of order: {', '.join(p.name for p in plans)}; "
                         f"give them in the course's order (notebooks/*.ipynb sorts so)")
    foundations = [plan for plan in plans if int(plan.name[:2]) <= FOUNDATIONS_LAST]
    parts = [("Foundations", foundations), ("Advanced", plans[len(foundations):])]
    return [(name, part) for name, part in parts if part]


def split_sessions(plans: list[NotebookPlan], fmt: Format) -> list[list[NotebookPlan]]:
    """``plans`` cut between notebooks into the fewest sessions (days or half days, as
    ``fmt`` says) whose :func:`item_minutes` fit ``fmt.capacity``; among those, the cut
    that makes the longest session shortest (the earliest on a tie). If no cut fits (a
    notebook alone is longer than a session), one session per notebook."""
    minutes = [item_minutes([plan], fmt.core) for plan in plans]
    count = len(plans)
    for sessions in range(1, count + 1):
        cuts = ((0, *c, count) for c in itertools.combinations(range(1, count), sessions - 1))
        longest, bounds = min((max(sum(minutes[a:b]) for a, b in itertools.pairwise(c)), c)
                              for c in cuts)
        if longest <= fmt.capacity or sessions == count:
            return [plans[a:b] for a, b in itertools.pairwise(bounds)]
    return []


def timetable(items: list[tuple[NotebookPlan, str, int]], breaks: tuple[Break, ...]
              ) -> list[tuple[int, NotebookPlan | None, str, int]]:
    """Rows (start, plan, what, minutes) of ``items`` (0-minute ones dropped) from 09:00, each
    of ``breaks`` (as in :class:`Format`) a row with plan None at the boundary nearest its
    time (the earliest on a tie), unless fewer than ``MIN_AFTER_BREAK`` minutes follow."""
    rows = [item for item in items if item[2] > 0]
    elapsed = list(itertools.accumulate(minutes for _, _, minutes in rows))
    total = sum(minutes for _, _, minutes in rows)
    placed, last = [], -1
    for name, minutes, target in breaks:
        target = total // 2 if target is None else target
        candidates = range(last + 1, len(rows) - 1)
        if candidates and total >= target + MIN_AFTER_BREAK:
            last = min(candidates, key=lambda i: abs(elapsed[i] - target))
            placed.append((last + 1, (None, name, minutes)))
    for index, row in reversed(placed):
        rows.insert(index, row)
    starts = itertools.accumulate((minutes for _, _, minutes in rows), initial=DAY_START)
    return [(start, *row) for start, row in zip(starts, rows, strict=False)]


def _times(start: int, minutes: int) -> str:
    """"09:00-09:35": ``minutes`` from ``start`` (minutes after midnight)."""
    return "-".join(f"{t // 60:02d}:{t % 60:02d}" for t in (start, start + minutes))


def _duration(minutes: int) -> str:
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"


def _span(plans: list[NotebookPlan]) -> str:
    first, last = plans[0].name[:2], plans[-1].name[:2]
    return f"notebook {first}" if len(plans) == 1 else f"notebooks {first}-{last}"


def _row(*cells) -> str:
    """A Markdown table row; a "|" in a cell (a title's) is escaped."""
    return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"


_COUNTS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _sessions_markdown(part: str, plans: list[NotebookPlan], fmt: Format) -> list[str]:
    """The heading and timetables of ``plans`` taught in ``fmt``'s sessions."""
    sessions = split_sessions(plans, fmt)
    count = _COUNTS[len(sessions) - 1] if len(sessions) <= len(_COUNTS) else str(len(sessions))
    unit = fmt.unit + ("s" if len(sessions) > 1 else "")
    lines = [f"### {part}, {count} {unit}: {'the core' if fmt.core else 'every section'} of "
             f"{_span(plans)}", ""]
    if not fmt.core:
        lines += ["Core exercises in class; the optional ones are homework.", ""]
    for number, session in enumerate(sessions, start=1):
        rows = timetable(path_items(session, fmt.core), fmt.breaks)
        teaching = item_minutes(session, fmt.core)
        pauses = sum(minutes for _, plan, _, minutes in rows if plan is None)
        spare = fmt.capacity - teaching
        fit = f"{_duration(spare)} to spare" if spare >= 0 else f"{_duration(-spare)} too long"
        prefix = (f"{fmt.unit.capitalize()} {number}, {_span(session)}: "
                  if len(sessions) > 1 else "")
        lines += [
            f"{prefix}{_duration(teaching)} of teaching including exercises (a {fmt.unit} holds "
            f"about {_duration(fmt.capacity)}: {fit}), {_times(DAY_START, teaching + pauses)}"
            + (f" including {pauses} min of breaks." if pauses else " without a break."),
            "",
            "| Time | Notebook | What | Min |",
            "|---|---|---|---:|",
        ]
        shown = None  # name each notebook on its first row only
        for start, plan, what, minutes in rows:
            notebook = plan.title if plan and plan != shown else ""
            shown = plan or shown
            what = what if plan else f"*{what}*"
            lines.append(_row(_times(start, minutes), notebook, what, minutes))
        lines.append("")
    return lines


def schedule_markdown(paths: list[str | os.PathLike]) -> str:
    """The instructor's schedule for the notebooks at ``paths``, in Markdown: the minutes per
    notebook and their optional parts; then, for each part of the course (:func:`split_parts`),
    its days (the core) and its half days (every section, the core exercises), as
    :func:`split_sessions` cuts them, each a :func:`timetable`."""
    plans = read_plans(paths)
    keys = ("teaching", "core_teaching", "exercises", "core_exercises")
    lines = [
        "### Minutes per notebook",
        "",
        "| Notebook | Teaching | of which core | Exercises | of which core |",
        "|---|---:|---:|---:|---:|",
        *(_row(plan.title, *(getattr(plan, key) for key in keys)) for plan in plans),
        _row("**Total**", *(sum(getattr(plan, key) for plan in plans) for key in keys)),
        "",
    ]
    optional = []
    for plan in plans:
        sections = ", ".join(f'"{title}"' for title in plan.optional_sections)
        word = "section" if len(plan.optional_sections) == 1 else "sections"
        pieces = [f"{word} {sections}" if sections else "", ", ".join(plan.optional_exercises)]
        if any(pieces):
            optional.append(f"- {plan.title}: {'; '.join(filter(None, pieces))}")
    if optional:
        lines += ["Optional deep dives, left out of the one-day path:", "", *optional,
                  "- every other section and exercise is core", ""]
    else:
        lines += ["No section or exercise is marked optional: everything is core.", ""]
    for part, part_plans in split_parts(plans):
        for fmt in FORMATS:
            lines += _sessions_markdown(part, part_plans, fmt)
    return "\n".join(lines[:-1])


def update_schedule(document: str | os.PathLike, paths: list[str | os.PathLike]) -> bool:
    """Write the schedule of ``paths`` between the markers in ``document`` (the instructor
    guide); True if it changed."""
    text = Path(document).read_text(encoding="utf-8")
    parts = re.split(f"({re.escape(SCHEDULE_START)}|{re.escape(SCHEDULE_END)})", text)
    if parts[1::2] != [SCHEDULE_START, SCHEDULE_END]:
        raise ValueError(
            f"{document}: needs exactly one '{SCHEDULE_START}' line followed by one "
            f"'{SCHEDULE_END}' line (found {parts.count(SCHEDULE_START)} and "
            f"{parts.count(SCHEDULE_END)}) where the schedule goes")
    new = f"{parts[0]}{SCHEDULE_START}\n{schedule_markdown(paths)}\n{SCHEDULE_END}{parts[4]}"
    if new != text:
        _write(document, new)
    return new != text


# --------------------------------------------------------------------------- command line


def _execute_all(paths: list[str]) -> int:
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    failed = []
    for path in paths:
        try:
            print(f"{path}: executed in {execute_notebook(path):.1f} s", flush=True)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            print(f"{path}: FAILED, file left unchanged\n{exc}", file=sys.stderr)
            failed.append(path)
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m vae_tutorial.notebook_tools",
                                     description="Execute course notebooks, print the schedule.")
    commands = parser.add_subparsers(dest="command", required=True)
    execute = commands.add_parser(
        "execute", help="run notebooks top to bottom (offline data) and store their outputs")
    execute.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    schedule = commands.add_parser(
        "schedule", help="print the teaching schedule (Markdown): minutes, days and half days")
    schedule.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    schedule.add_argument(
        "--update", metavar="FILE", help=f"write the schedule between the "
        f"'{SCHEDULE_START}' and '{SCHEDULE_END}' lines of this file (INSTRUCTORS.md) "
        f"instead of printing it")
    args = parser.parse_args(argv)
    try:
        if args.command == "execute":
            return _execute_all(args.notebooks)
        if args.update is None:
            print(schedule_markdown(args.notebooks))
        elif update_schedule(args.update, args.notebooks):
            print(f"updated the schedule in {args.update}")
        else:
            print(f"the schedule in {args.update} is up to date")
    except (ValueError, OSError) as exc:  # header errors, missing files
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
