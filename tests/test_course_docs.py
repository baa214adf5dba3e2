"""The course's shared documents agree with the notebooks: the instructor guide's schedule,
the table of symbols (notebooks/NOTATION.md), and plans that fit their days.

The schedule in INSTRUCTORS.md (between the ``<!-- schedule:start -->`` and
``<!-- schedule:end -->`` lines) is regenerated from the notebooks' headers here; refresh
it with ``python -m vae_tutorial.notebook_tools schedule --update INSTRUCTORS.md
notebooks/*.ipynb``. That each notebook links to NOTATION.md is checked per notebook in
test_notebooks_fresh.py.

The rule for the plans: the course has two parts, the foundations (notebooks 01-06) and
the advanced notebooks (07 onwards). The foundations are what a one-day workshop teaches
(their core in ONE day) or a two-half-day one (every section in TWO half days); the
advanced part takes as many days / half days as its minutes need. Every day and half day
of every plan must fit its session (a notebook longer than a half day fails here).
"""

from __future__ import annotations

import re
from pathlib import Path

from vae_tutorial import notebook_tools as nt

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
README = ROOT / "README.md"
GUIDE = ROOT / "INSTRUCTORS.md"
NOTATION = ROOT / "notebooks" / "NOTATION.md"
REFRESH = (
    "python -m vae_tutorial.notebook_tools schedule --update INSTRUCTORS.md notebooks/*.ipynb"
)


def test_instructor_guide_schedule_is_the_one_the_notebooks_give(tmp_path):
    copy = tmp_path / "INSTRUCTORS.md"
    copy.write_bytes(GUIDE.read_bytes())
    assert not nt.update_schedule(copy, NOTEBOOKS), f"the guide's schedule is stale; run {REFRESH}"


def test_readme_links_to_the_instructor_guide():
    text = README.read_text(encoding="utf-8")
    assert "(INSTRUCTORS.md)" in text
    assert nt.SCHEDULE_START not in text  # one schedule, in the guide


def test_every_day_and_half_day_of_every_plan_fits():
    plans = nt.read_plans(NOTEBOOKS)
    for part, part_plans in nt.split_parts(plans):
        for fmt in nt.FORMATS:
            for session in nt.split_sessions(part_plans, fmt):
                minutes = nt.item_minutes(session, fmt.core)
                names = ", ".join(plan.name for plan in session)
                assert minutes <= fmt.capacity, f"{part}, a {fmt.unit} of {names}: {minutes} min"


def test_the_foundations_take_one_day_or_two_half_days():
    parts = dict(nt.split_parts(nt.read_plans(NOTEBOOKS)))
    foundations = parts["Foundations"]
    assert [plan.name[:2] for plan in foundations] == ["01", "02", "03", "04", "05", "06"]
    assert len(nt.split_sessions(foundations, nt.DAY)) == 1
    assert len(nt.split_sessions(foundations, nt.HALF_DAY)) == 2


# --------------------------------------------------------------------------- NOTATION.md

ROW_RE = re.compile(r"^\|(?!---)(.*)\|\s*$")
LOCAL_HEADING = "## Symbols local to one notebook"


def notation_rows(text: str) -> list[list[str]]:
    """The body rows of the course-wide tables in ``text`` (not the local symbols)."""
    rows = []
    for line in text.split(LOCAL_HEADING)[0].splitlines():
        match = ROW_RE.match(line)
        if match and not line.startswith("| Symbol |"):
            rows.append([cell.strip() for cell in match[1].split("|")])
    return rows


def test_notation_table_gives_each_symbol_once_with_where_it_first_appears():
    rows = notation_rows(NOTATION.read_text(encoding="utf-8"))
    assert len(rows) >= 25, "the table of symbols is missing rows"
    symbols = [row[0] for row in rows]
    duplicates = {symbol for symbol in symbols if symbols.count(symbol) > 1}
    assert not duplicates, f"a symbol listed twice: {duplicates}"
    for row in rows:
        assert len(row) in (3, 5), row  # operations: 3 columns; symbols: 5
        assert re.fullmatch(r"\$[^$]+\$", row[0]), f"symbol not in $...$: {row[0]}"
        assert re.fullmatch(r"`[^`]+`", row[-1]), f"no LaTeX spelling for {row[0]}"
        if len(row) == 5:
            assert re.fullmatch(r"(0[1-9]|10)", row[3]), f"{row[0]}: first in {row[3]!r}"


def test_notation_table_keeps_the_agreed_meanings():
    text = NOTATION.read_text(encoding="utf-8")
    rows = {row[0]: row for row in notation_rows(text)}
    assert rows[r"$\log\sigma^2$"][2] == "`z_log_var`"
    assert "**variance**" in rows[r"$\log\sigma^2$"][1]
    assert rows[r"$\mu$"][2] == "`z_mean`"
    assert rows["$K$"][2] == "`latent_dim`"
    assert "standard deviation" in rows[r"$\sigma$"][1]
    assert "sigmoid" in rows[r"$\ell_d$"][1]
    assert "nats per image" in rows[r"$-\mathcal{L}(x)$"][1]
    assert r"\sigma(" not in text  # the sigmoid is never written as sigma


def test_local_symbols_name_their_notebooks():
    local = NOTATION.read_text(encoding="utf-8").split(LOCAL_HEADING)[1]
    rows = [[cell.strip() for cell in m[1].split("|")]
            for m in map(ROW_RE.match, local.splitlines()) if m and "Notebook" not in m[1]]
    assert len(rows) >= 10
    for notebooks, symbol, meaning in rows:
        assert re.fullmatch(r"(0[1-9]|10)(, (0[1-9]|10))*", notebooks), notebooks
        assert "$" in symbol and meaning, symbol


# --------------------------------------------------------------------------- INSTRUCTORS.md


def test_instructor_guide_nbgitpuller_link_is_made_from_the_course_address():
    from urllib.parse import parse_qs, urlsplit

    from vae_tutorial import links

    text = GUIDE.read_text(encoding="utf-8")
    shown = text.split("<!-- nbgitpuller:start -->\n")[1].split("\n<!-- nbgitpuller:end -->")[0]
    assert shown == links.nbgitpuller_url("https://hub.example.edu")
    query = parse_qs(urlsplit(shown).query)
    folder = links.REPOSITORY.split("/")[1]
    assert query == {"repo": [links.repository_url()], "branch": [links.BRANCH],
                     "urlpath": [f"lab/tree/{folder}/notebooks/01_autoencoder.ipynb"]}
    assert (ROOT / "notebooks" / "01_autoencoder.ipynb").is_file()
    assert links.nbgitpuller_url("https://hub.example.edu/", "notebooks/05_x.ipynb").startswith(
        "https://hub.example.edu/hub/user-redirect/git-pull?repo=")


def test_instructor_guide_names_commands_and_files_that_exist():
    text = GUIDE.read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in re.findall(r"`make ([\w-]+)", text):
        assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), target
    for module in re.findall(r"python -m (vae_tutorial\.\w+)", text):
        assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), module
    for path in re.findall(r"`((?:benchmarks|binder|tests)/[\w./]+)`", text):
        assert (ROOT / path).exists(), path


def test_every_public_name_says_which_notebook_introduced_it():
    import inspect

    import vae_tutorial

    silent = [name for name in vae_tutorial.__all__
              if not re.search(r"[Nn]otebooks? \d\d", inspect.getdoc(getattr(vae_tutorial, name))
                               or "")]
    assert silent == [], f"docstrings that name no notebook: {silent}"
