"""Unit tests for vae_tutorial.notebook_tools on small in-memory notebooks."""

from __future__ import annotations

import re
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


def fresh_notebook(*sources: str, outputs: dict | None = None) -> nbformat.NotebookNode:
    """A notebook that looks as if `make execute` had just run its code cells.

    ``outputs`` maps a code cell's index in ``sources`` to the outputs it produced.
    """
    cells = [new_markdown_cell(HEADER)]
    for count, source in enumerate(sources, start=1):
        cell = new_code_cell(source, execution_count=count)
        cell.outputs = (outputs or {}).get(count - 1, [])
        cell.metadata["vae_tutorial"] = {
            "source_sha256": nt.source_sha256(source),
            "outputs_sha256": nt.outputs_sha256(cell.outputs),
        }
        cells.append(cell)
    return new_notebook(cells=cells)


PNG = (  # a 1x1 pixel
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==\n"
)


def figure_notebook() -> nbformat.NotebookNode:
    """A fresh notebook whose second code cell drew a figure and printed a line."""
    figure = new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})
    printed = new_output("stream", name="stdout", text="KL = 0.8181 nats\nok\n")
    return fresh_notebook("x = 1", "plot(x)", outputs={1: [printed, figure]})


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


def test_deleted_figure_is_reported_though_the_execution_count_was_kept():
    nb = figure_notebook()
    assert nt.freshness_problems(nb) == []
    del nb.cells[2].outputs[1]  # the figure; execution_count stays 2
    assert nb.cells[2].execution_count == 2
    assert nt.freshness_problems(nb) == [
        "cell 3: stored outputs differ from those its execution produced (an output deleted, "
        "added or edited since); run `make execute`"
    ]


@pytest.mark.parametrize(
    "edit",
    [
        lambda outputs: outputs.clear(),
        lambda outputs: outputs[0].update(text="KL = 0.8164 nats\nok\n"),
        lambda outputs: outputs[1]["data"].update({"image/png": PNG.replace("A", "B", 1)}),
        lambda outputs: outputs.append(new_output("stream", name="stdout", text="extra\n")),
        lambda outputs: outputs.reverse(),
    ],
    ids=["all-deleted", "text-edited", "image-edited", "output-added", "reordered"],
)
def test_edited_outputs_are_reported(edit):
    nb = figure_notebook()
    edit(nb.cells[2].outputs)
    problems = nt.freshness_problems(nb)
    assert len(problems) == 1 and problems[0].startswith("cell 3: stored outputs differ")


def test_outputs_hash_survives_a_save_and_load(tmp_path):
    nb = figure_notebook()
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    assert '"KL = 0.8181 nats\\n",' in path.read_text()  # saved as a list of lines
    assert nt.freshness_problems(nbformat.read(path, as_version=4)) == []


def test_outputs_hash_ignores_key_order_and_line_splitting():
    one = new_output("stream", name="stdout", text="a\nb\n")
    two = {"text": ["a\n", "b\n"], "name": "stdout", "output_type": "stream"}
    assert nt.outputs_sha256([one]) == nt.outputs_sha256([two])
    assert nt.outputs_sha256([one]) != nt.outputs_sha256([])


def test_missing_outputs_hash_is_reported():
    nb = fresh_notebook("x = 1")
    del nb.cells[1].metadata["vae_tutorial"]["outputs_sha256"]
    assert nt.freshness_problems(nb) == [
        "cell 2: no outputs hash recorded (executed by an older `notebook_tools execute`); "
        "run `make execute`"
    ]


def test_empty_code_cell_is_reported():
    nb = fresh_notebook("x = 1")
    nb.cells.insert(1, new_code_cell("  \n"))
    assert nt.freshness_problems(nb) == ["cell 2: empty code cell; delete it"]


def test_hash_of_list_source_matches_string_source():
    assert nt.source_sha256(["a\n", "b"]) == nt.source_sha256("a\nb")


# --------------------------------------------------------------------------- header


def test_read_plan_header():
    plan = nt.read_plan(fresh_notebook(), "01_ae.ipynb")
    assert plan == nt.NotebookPlan(
        name="01_ae.ipynb",
        title="01 · Autoencoders: squeezing digits",
        teaching=25,
        core_teaching=25,  # no "(core N)": all of it is core
        exercises=15,
        core_exercises=15,
        optional_sections=(),
        optional_exercises=(),
        core_exercise_numbers=(),
    )


def test_read_plan_header_with_core_minutes():
    line = "**Teaching:** 45 min (core 30) · **Exercises:** 30 min (core 0) · **Prerequisites:** 01"
    headings = "## B (optional)\n\n### Exercise 1 · x (optional)"
    cells = [new_markdown_cell(f"# 02 · VAE\n\n{line}"), new_markdown_cell(headings)]
    plan = nt.read_plan(new_notebook(cells=cells), "02_vae.ipynb")
    assert (plan.teaching, plan.core_teaching) == (45, 30)
    assert (plan.exercises, plan.core_exercises) == (30, 0)


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("# 01 · Title\n\nNo timings here.", "cell 1: no timing line"),
        (
            "# 01 · Title\n\n**Teaching:** 25 · **Exercises:** 15 min · **Prerequisites:** x",
            "cell 1, line 3: malformed",
        ),
        (
            "# 01 · Title\n\n**Teaching:** ten min · **Exercises:** 15 min · **Prerequisites:** x",
            "cell 1, line 3: malformed",
        ),
        ("# 01 · Title\n\n**Teaching:** 25 min · **Exercises:** 15 min", "line 3: malformed"),
        (
            "# 01 · Title\n\n**Teaching:** 25 min (core) · **Exercises:** 15 min · "
            "**Prerequisites:** x",
            "line 3: malformed",
        ),
        (
            "# 01 · Title\n\n**Teaching:** 25 min core 20 · **Exercises:** 15 min · "
            "**Prerequisites:** x",
            "line 3: malformed",
        ),
        (
            "# 01 · Title\nintro\n\n**Teaching:** 25 min (core 30) · **Exercises:** 15 min · "
            "**Prerequisites:** x",
            "cell 1, line 4: teaching has core 30 min, more than its total 25 min",
        ),
        (
            "# 01 · Title\n\n**Teaching:** 25 min · **Exercises:** 15 min (core 16) · "
            "**Prerequisites:** x",
            "line 3: exercises has core 16 min, more than its total 15 min",
        ),
        ("**Teaching:** 25 min · **Exercises:** 15 min · **Prerequisites:** x", "no title"),
    ],
)
def test_read_plan_rejects_missing_or_malformed_header_lines(header, words):
    nb = new_notebook(cells=[new_markdown_cell(header)])
    with pytest.raises(ValueError, match=rf"^01_ae\.ipynb, .*{re.escape(words)}"):
        nt.read_plan(nb, "01_ae.ipynb")


def test_read_plan_needs_a_markdown_cell():
    with pytest.raises(ValueError, match="no markdown cell"):
        nt.read_plan(new_notebook(cells=[new_code_cell("x = 1")]), "01_ae.ipynb")


# --------------------------------------------------------------------------- schedule


def plan_notebook(timing: str, *headings: str, number: str = "03") -> nbformat.NotebookNode:
    """A notebook with header timings ``timing`` (the part before Prerequisites) and headings."""
    header = f"# {number} · Topic {number}\n\n{timing} · **Prerequisites:** none\n"
    cells = [new_markdown_cell(header), new_code_cell("x = 1")]
    cells += [new_markdown_cell(f"{heading}\n\nText.") for heading in headings]
    return new_notebook(cells=cells)


def timing(teaching, exercises, core_teaching=None, core_exercises=None) -> str:
    def part(minutes, core):
        return f"{minutes} min" + ("" if core is None else f" (core {core})")

    return (
        f"**Teaching:** {part(teaching, core_teaching)} · "
        f"**Exercises:** {part(exercises, core_exercises)}"
    )


KL_HEADINGS = (
    "## Definition",
    "## Forward vs reverse KL (optional)",
    "## Exercises",
    "### Exercise 1 · Two coins",
    "### Exercise 2 · Which mode? (optional)",
)


def test_read_plan_finds_core_and_optional_sections_and_exercises():
    nb = plan_notebook(timing(45, 30, 30, 15), *KL_HEADINGS)
    nb.cells[2].source += "\n\n```python\n## not a heading (optional)\n```\n### Sub-step"
    nb.cells.append(new_markdown_cell("### BEGIN SOLUTION\nBecause.\n### END SOLUTION"))
    nb.cells.append(new_markdown_cell("~~~\n### Exercise 9 · fenced\n~~~\n### Exercise 3 · c"))
    plan = nt.read_plan(nb, "03_kl.ipynb")
    assert (plan.teaching, plan.core_teaching, plan.exercises, plan.core_exercises) == (
        45,
        30,
        30,
        15,
    )
    assert plan.optional_sections == ("Forward vs reverse KL",)
    assert plan.optional_exercises == ("Exercise 2 · Which mode?",)
    assert plan.core_exercise_numbers == (1, 3)


@pytest.mark.parametrize(
    "heading",
    [
        "## Forward vs reverse KL (Optional)",
        "## Forward vs reverse KL [optional]",
        "## Forward vs reverse KL (optional).",
        "## (optional) Forward vs reverse KL",
        "### Exercise 2 (optional) · Which mode?",
    ],
)
def test_misspelt_optional_marker_names_notebook_cell_and_line(heading):
    nb = plan_notebook(timing(45, 30), "## Definition")
    nb.cells[2].source = f"Intro.\n\n{heading}\n"
    with pytest.raises(ValueError, match=r"^03_kl\.ipynb, cell 3, line 3: heading .* exactly"):
        nt.read_plan(nb, "03_kl.ipynb")


@pytest.mark.parametrize(
    ("minutes", "headings", "words"),
    [
        ((45, 30, None, 15), KL_HEADINGS, "'Forward vs reverse KL' are marked optional"),
        ((45, 30, 30, None), KL_HEADINGS, "'Exercise 2 · Which mode?' are marked optional"),
        ((45, 30, 30, 15), KL_HEADINGS[:2] + KL_HEADINGS[3:4], "no exercise heading ends"),
        ((45, 30, 30, 15), KL_HEADINGS[:1] + KL_HEADINGS[2:], "no section heading ends"),
    ],
)
def test_core_minutes_must_match_the_optional_headings(minutes, headings, words):
    nb = plan_notebook(timing(*minutes), *headings)
    with pytest.raises(ValueError, match=rf"^03_kl\.ipynb, cell 1, line 3: .*{re.escape(words)}"):
        nt.read_plan(nb, "03_kl.ipynb")


def write_plans(folder: Path, *specs) -> list[Path]:
    """Write one synthetic notebook per (timing, headings) spec: 01_nb.ipynb, 02_nb.ipynb..."""
    paths = []
    for index, (minutes, headings) in enumerate(specs, start=1):
        path = folder / f"{index:02d}_nb.ipynb"
        nbformat.write(plan_notebook(timing(*minutes), *headings, number=f"{index:02d}"), path)
        paths.append(path)
    return paths


EXERCISES_3 = ("### Exercise 1 · a", "### Exercise 2 · b", "### Exercise 3 · c (optional)")


def test_timetable_places_breaks_at_the_nearest_boundary():
    plan = nt.read_plan(plan_notebook(timing(10, 0)), "01_nb.ipynb")
    items = [(plan, "part", minutes) for minutes in (50, 50, 50, 50, 50, 50, 50, 20)]
    slots = nt.timetable(items, nt.DAY.breaks)
    breaks = [(what, start, minutes) for start, plan, what, minutes in slots if plan is None]
    # Elapsed teaching at the boundaries: 50, 100, 150, 200, 250, 300, 350.
    assert breaks == [
        ("Morning break", 9 * 60 + 100, 15),  # after 100 min, nearest 90
        ("Lunch", 9 * 60 + 15 + 200, 60),  # after 200 min, nearer 180 than 150
        ("Afternoon break", 9 * 60 + 75 + 250, 15),  # after 250, nearest 270
    ]
    assert slots[-1][0] + slots[-1][3] == 9 * 60 + 370 + 90  # 370 min of teaching, 90 of breaks
    # A short day gets only the breaks it reaches (with 30 min left after them).
    short = nt.timetable(items[:4], nt.DAY.breaks)
    assert [row[2] for row in short if row[1] is None] == ["Morning break"]
    assert [row[2] for row in nt.timetable(items[:1], nt.DAY.breaks)] == ["part"]
    # Boundaries after 60 and 120 min are equally near 90: the earlier one wins.
    tie = nt.timetable([(plan, "part", 60)] * 3, nt.DAY.breaks[:1])
    assert [(row[2], row[0]) for row in tie if row[1] is None] == [("Morning break", 9 * 60 + 60)]


def test_one_day_and_two_half_day_paths(tmp_path, capsys):
    paths = write_plans(
        tmp_path,
        ((60, 30, 45, 20), ("## A", "## B (optional)", *EXERCISES_3)),
        ((50, 20), ("## C", "### Exercise 1 · d")),
        ((70, 25, 50, 25), ("## E (optional)", "### Exercise 1 · e")),
        ((40, 30, 40, 0), ("## F", "### Exercise 1 · f (optional)")),
    )
    plans = nt.read_plans(paths)
    assert [m for _, _, m in nt.path_items(plans, core=True)] == [45, 20, 50, 20, 50, 25, 40, 0]
    assert [m for _, _, m in nt.path_items(plans, core=False)] == [60, 20, 50, 20, 70, 25, 40, 0]
    # 150 + 135 rather than 80 + 205 or 245 + 40
    assert [len(half) for half in nt.split_sessions(plans, nt.HALF_DAY)] == [2, 2]
    assert nt.split_sessions(plans, nt.DAY) == [plans]

    assert nt.main(["schedule", *map(str, paths)]) == 0
    out = capsys.readouterr().out
    assert "| 01 · Topic 01 | 60 | 45 | 30 | 20 |" in out
    assert "| **Total** | 220 | 185 | 105 | 65 |" in out
    assert '- 01 · Topic 01: section "B"; Exercise 3 · c' in out
    assert "- 04 · Topic 04: Exercise 1 · f" in out
    assert "- 02 · Topic 02" not in out  # nothing optional there
    day = out.split("### Foundations, one day: the core of notebooks 01-04")[1]
    day = day.split("### Foundations, two half")[0]
    assert (
        "4 h 10 min of teaching including exercises (a day holds about 6 h: 1 h 50 min to "
        "spare), 09:00-14:25 including 75 min of breaks." in day
    )
    assert "| 09:00-09:45 | 01 · Topic 01 | core sections | 45 |" in day
    assert "| 09:45-10:05 |  | Exercises 1, 2 | 20 |" in day
    assert "| 10:05-10:20 |  | *Morning break* | 15 |" in day  # after 65 min, nearest 90
    assert "| 10:20-11:10 | 02 · Topic 02 | all sections | 50 |" in day
    assert "| 11:30-12:20 | 03 · Topic 03 | core sections | 50 |" in day  # no break at 135
    assert "| 12:20-13:20 |  | *Lunch* | 60 |" in day  # after 185 min, nearest 180
    assert "| 13:20-13:45 |  | Exercise 1 | 25 |" in day
    assert "| 13:45-14:25 | 04 · Topic 04 | all sections | 40 |" in day
    assert "Exercise" not in day.split("04 · Topic 04")[1]  # its only exercise is optional
    halves = out.split("### Foundations, two half days: every section of notebooks 01-04")[1]
    first, second = halves.split("Half day 2")
    assert first.startswith(
        "\n\nCore exercises in class; the optional ones are homework.\n\n"
        "Half day 1, notebooks 01-02: 2 h 30 min of teaching including exercises (a half "
        "day holds about 3 h 30 min: 1 h to spare), 09:00-11:45 including 15 min of breaks."
    )
    assert "| 09:00-10:00 | 01 · Topic 01 | all sections | 60 |" in first
    assert "| 10:00-10:20 |  | Exercises 1, 2 | 20 |" in first  # exercise 3 is homework
    assert "| 10:20-10:35 |  | *Break* | 15 |" in first  # after 80 min, nearest 75
    assert second.startswith(", notebooks 03-04: 2 h 15 min")
    assert "| 09:00-10:10 | 03 · Topic 03 | all sections | 70 |" in second
    assert "| 10:10-10:25 |  | *Break* | 15 |" in second  # after 70 min, nearest 82


def test_schedule_takes_more_days_when_needed_and_says_when_one_is_too_long(tmp_path):
    paths = write_plans(tmp_path, ((200, 60), ("## A",)), ((150, 30), ("## B",)))
    out = nt.schedule_markdown(paths)
    assert "### Foundations, two days: the core of notebooks 01-02" in out  # 440 min
    assert (
        "Day 1, notebook 01: 4 h 20 min of teaching including exercises (a day holds about "
        "6 h: 1 h 40 min to spare)" in out
    )
    assert "No section or exercise is marked optional: everything is core." in out
    # A notebook longer than a half day gets one of its own, and the schedule says so.
    assert "### Foundations, two half days: every section of notebooks 01-02" in out
    assert (
        "Half day 1, notebook 01: 4 h 20 min of teaching including exercises (a half day "
        "holds about 3 h 30 min: 50 min too long)" in out
    )


def test_schedule_fails_naming_notebook_and_line(tmp_path, capsys):
    paths = write_plans(tmp_path, ((30, 10), ("## A",)), ((30, 10), ("## B",)))
    nb = nbformat.read(paths[1], as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("30 min ·", "30 minutes ·")
    nbformat.write(nb, paths[1])
    assert nt.main(["schedule", *map(str, paths)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: 02_nb.ipynb, cell 1, line 3: malformed timing line")
    assert nt.HEADER_EXAMPLE in err


def test_one_short_notebook_takes_one_day_or_one_half_day(tmp_path):
    out = nt.schedule_markdown(write_plans(tmp_path, ((30, 10), ("## A",))))
    assert "### Foundations, one day: the core of notebook 01" in out
    assert "### Foundations, one half day: every section of notebook 01" in out
    assert "Half day 1" not in out and "Advanced" not in out


def test_update_schedule_replaces_only_the_block(tmp_path, capsys):
    paths = write_plans(tmp_path, ((30, 10), ("## A",)), ((20, 10), ("## B",)))
    readme = tmp_path / "README.md"
    readme.write_text(f"# Course\n\nBefore.\n{nt.SCHEDULE_START}\nold\n{nt.SCHEDULE_END}\nAfter.\n")
    assert nt.main(["schedule", "--update", str(readme), *map(str, paths)]) == 0
    assert "updated the schedule" in capsys.readouterr().out
    text = readme.read_text()
    assert text.startswith(f"# Course\n\nBefore.\n{nt.SCHEDULE_START}\n### Minutes per notebook")
    assert text.endswith(f"{nt.SCHEDULE_END}\nAfter.\n")
    block = text.split(nt.SCHEDULE_START + "\n")[1].split("\n" + nt.SCHEDULE_END)[0]
    assert block == nt.schedule_markdown(paths)
    assert nt.main(["schedule", "--update", str(readme), *map(str, paths)]) == 0
    assert "is up to date" in capsys.readouterr().out
    assert readme.read_text() == text


@pytest.mark.parametrize(
    "text",
    [
        "no markers",
        f"{nt.SCHEDULE_START}\nonly a start",
        f"{nt.SCHEDULE_END}\nx\n{nt.SCHEDULE_START}\n",
        f"{nt.SCHEDULE_START}\n{nt.SCHEDULE_END}\n{nt.SCHEDULE_START}\n{nt.SCHEDULE_END}\n",
    ],
)
def test_update_schedule_needs_one_pair_of_markers(tmp_path, capsys, text):
    paths = write_plans(tmp_path, ((30, 10), ("## A",)))
    readme = tmp_path / "README.md"
    readme.write_text(text)
    assert nt.main(["schedule", "--update", str(readme), *map(str, paths)]) == 1
    assert "README.md: needs exactly one" in capsys.readouterr().err
    assert readme.read_text() == text


def test_ten_notebooks_make_a_foundations_part_and_an_advanced_part(tmp_path):
    # Notebooks 07-10 arrive with headers like 01-06's: each part gets its own plans.
    spec = ((50, 25, 40, 10), ("## A", "## B (optional)", *EXERCISES_3))
    paths = write_plans(tmp_path, *[spec] * 10)
    plans = nt.read_plans(paths)
    parts = nt.split_parts(plans)
    assert [(name, [p.name[:2] for p in part]) for name, part in parts] == [
        ("Foundations", ["01", "02", "03", "04", "05", "06"]),
        ("Advanced", ["07", "08", "09", "10"]),
    ]
    out = nt.schedule_markdown(paths)
    assert "| **Total** | 500 | 400 | 250 | 100 |" in out  # all ten notebooks
    assert "| 10 · Topic 10 | 50 | 40 | 25 | 10 |" in out
    sections = re.split(r"^### ", out, flags=re.MULTILINE)
    headings = [section.splitlines()[0] for section in sections[2:]]
    assert headings == [
        "Foundations, one day: the core of notebooks 01-06",  # 6 x 50 = 300 min
        "Foundations, two half days: every section of notebooks 01-06",  # 6 x 60 = 360 min
        "Advanced, one day: the core of notebooks 07-10",  # 200 min
        "Advanced, two half days: every section of notebooks 07-10",  # 240 min
    ]
    foundations_day, _, advanced_day, advanced_halves = sections[2:]
    assert "07 · Topic 07" not in foundations_day
    assert "06 · Topic 06" not in advanced_day
    assert "| 09:00-09:40 | 07 · Topic 07 | core sections | 40 |" in advanced_day  # from 09:00
    assert "3 h 20 min of teaching including exercises (a day holds about 6 h: 2 h 40 min to " \
        "spare)" in advanced_day
    assert "Half day 1, notebooks 07-08: 2 h of teaching" in advanced_halves
    assert "Half day 2, notebooks 09-10: 2 h of teaching" in advanced_halves


def test_only_advanced_notebooks_make_only_an_advanced_part(tmp_path):
    spec = ((30, 10), ("## A",))
    paths = write_plans(tmp_path, *[spec] * 8)[6:]  # 07_nb, 08_nb
    out = nt.schedule_markdown(paths)
    assert "Foundations" not in out
    assert "### Advanced, one day: the core of notebooks 07-08" in out


@pytest.mark.parametrize(
    ("minutes", "capacity", "lengths"),
    [
        ([100, 100, 100, 100, 100], 210, [1, 2, 2]),  # fewest sessions: 3; longest 200
        ([100, 100, 100, 100, 100], 500, [5]),
        ([300, 20, 20], 210, [1, 1, 1]),  # the 300-minute notebook cannot fit: one each
        ([60, 60, 60, 60], 130, [2, 2]),
        ([10, 10, 200, 10], 210, [2, 2]),  # 20 + 210 rather than 220 + 10
    ],
)
def test_split_sessions_takes_the_fewest_sessions_and_balances_them(
    tmp_path, minutes, capacity, lengths
):
    paths = write_plans(tmp_path, *[((m, 0), ("## A",)) for m in minutes])
    plans = nt.read_plans(paths)
    fmt = nt.Format("half day", capacity, core=False)
    sessions = nt.split_sessions(plans, fmt)
    assert [len(session) for session in sessions] == lengths
    assert [plan for session in sessions for plan in session] == plans


def test_split_parts_needs_numbered_notebooks_in_order(tmp_path):
    paths = write_plans(tmp_path, ((30, 10), ("## A",)), ((30, 10), ("## B",)))
    plans = nt.read_plans(paths)
    with pytest.raises(ValueError, match="out of order: 02_nb.ipynb, 01_nb.ipynb"):
        nt.split_parts(plans[::-1])
    renamed = tmp_path / "intro.ipynb"
    paths[0].rename(renamed)
    with pytest.raises(ValueError, match=r"^intro\.ipynb: .* two-digit number"):
        nt.schedule_markdown([renamed, paths[1]])


# --------------------------------------------------------------------------- execute


def test_execute_runs_in_place_offline_and_leaves_a_fresh_notebook(tmp_path, monkeypatch):
    monkeypatch.delenv("VAE_TUTORIAL_OFFLINE", raising=False)
    path = tmp_path / "tiny.ipynb"
    nb = new_notebook(
        cells=[
            new_markdown_cell(HEADER),
            new_code_cell("import os\nvalue = 20"),
            new_code_cell("print(value + 1, os.environ['VAE_TUTORIAL_OFFLINE'], os.getcwd())"),
            new_code_cell(
                f"from IPython.display import display\ndisplay({{'image/png': {PNG!r}}}, raw=True)"
            ),
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

    # A figure deleted from the stored notebook, execution count kept, is caught.
    assert executed.cells[3].outputs[0]["data"]["image/png"] == PNG
    executed.cells[3].outputs = []
    nbformat.write(executed, path)
    assert nt.freshness_problems(nbformat.read(path, as_version=4)) == [
        "cell 4: stored outputs differ from those its execution produced (an output deleted, "
        "added or edited since); run `make execute`"
    ]


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


def test_schedule_escapes_pipes_in_titles(tmp_path):
    (path,) = write_plans(tmp_path, ((30, 10), ("## A",)))
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("Topic 01", "VAEs | sampling")
    nbformat.write(nb, path)
    out = nt.schedule_markdown([path])
    assert "| 01 · VAEs \\| sampling | 30 | 30 | 10 | 10 |" in out
    assert "| 09:00-09:30 | 01 · VAEs \\| sampling | all sections | 30 |" in out
