"""The course's shared documents agree with the notebooks: the README's schedule, the table
of symbols (notebooks/NOTATION.md), and a day that fits.

The schedule in the README ("Teaching it", between the ``<!-- schedule:start -->`` and
``<!-- schedule:end -->`` lines) is regenerated from the notebooks' headers here; refresh
it with ``python -m vae_tutorial.notebook_tools schedule --update-readme README.md
notebooks/*.ipynb``. That each notebook links to NOTATION.md is checked per notebook in
test_notebooks_fresh.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from vae_tutorial import notebook_tools as nt

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
README = ROOT / "README.md"
NOTATION = ROOT / "notebooks" / "NOTATION.md"
REFRESH = (
    "python -m vae_tutorial.notebook_tools schedule --update-readme README.md notebooks/*.ipynb"
)


def test_readme_schedule_is_the_one_the_notebooks_give(tmp_path):
    copy = tmp_path / "README.md"
    copy.write_bytes(README.read_bytes())
    assert not nt.update_readme(copy, NOTEBOOKS), f"README schedule is stale; run {REFRESH}"


def test_the_one_day_path_fits_a_day_and_the_half_days_fit_half_days():
    plans = nt.read_plans(NOTEBOOKS)
    day = sum(minutes for _, _, minutes in nt.path_items(plans, core=True))
    assert day <= nt.DAY_MINUTES, f"the one-day path takes {day} min of teaching"
    if len(plans) > 1:
        cut = nt.split_in_two(plans)
        for half in (plans[:cut], plans[cut:]):
            minutes = sum(plan.teaching + plan.core_exercises for plan in half)
            assert minutes <= nt.HALF_DAY_MINUTES, f"{half[0].name}...: {minutes} min"


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
