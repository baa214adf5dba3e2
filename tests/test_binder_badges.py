"""Every notebook has a Binder badge in the README's table that opens that notebook.

The badges are made from ``vae_tutorial.links`` (the one copy of the repository slug and
branch): each must equal ``links.binder_url("notebooks/<name>.ipynb")``. The list of
notebooks comes from notebooks/*.ipynb, so a notebook added without a badge fails here with
the exact cell to paste into its row.
"""

from __future__ import annotations

import re
from pathlib import Path

from vae_tutorial import links

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
BADGE_IMAGE = "https://mybinder.org/badge_logo.svg"
BADGE = re.compile(r"\[!\[([^\]]*)\]\(([^)\s]+)\)\]\((https://mybinder\.org/[^)\s]+)\)")
ROW = re.compile(r"^\| (\d\d) \| `([^`]+)` \|(.*)\|$", re.MULTILINE)


def badge_cell(stem: str) -> str:
    """The README table cell that launches ``stem`` on Binder."""
    url = links.binder_url(f"notebooks/{stem}.ipynb")
    return f"[![Open {stem[:2]} on Binder]({BADGE_IMAGE})]({url})"


def table_rows() -> dict[str, str]:
    """The README notebook table: notebook name -> the rest of its row."""
    return {name: rest for _, name, rest in ROW.findall(README)}


def test_every_notebook_has_a_binder_badge_that_opens_it():
    rows = table_rows()
    problems = []
    for stem in NOTEBOOKS:
        if stem not in rows:
            problems.append(f"{stem}: no row in the README's notebook table")
            continue
        badges = BADGE.findall(rows[stem])
        expected = links.binder_url(f"notebooks/{stem}.ipynb")
        if [url for _, _, url in badges] != [expected]:
            problems.append(f"{stem}: its row should have one Binder badge, {badge_cell(stem)} "
                            f"(found {[url for _, _, url in badges]})")
        elif badges[0][1] != BADGE_IMAGE or not badges[0][0]:
            problems.append(f"{stem}: the badge should show {BADGE_IMAGE} with alt text")
    assert not problems, "README's notebook table:\n" + "\n".join(problems)


def test_no_binder_badge_for_a_notebook_that_does_not_exist():
    for name, rest in table_rows().items():
        if name not in NOTEBOOKS:
            assert not BADGE.findall(rest), f"the README has a Binder badge for {name}, " \
                "which is not in notebooks/ (Binder would open nothing)"


def test_every_binder_link_in_the_readme_comes_from_links():
    """No second copy of the slug: each mybinder.org launch link is links.binder_url(...)
    of an existing file (the badge at the top opens notebook 01)."""
    urls = re.findall(r"https://mybinder\.org/v2/[^)\s]+", README)
    assert urls, "the README has no Binder link"
    prefix = links.binder_url("")
    for url in urls:
        assert url.startswith(prefix), f"{url} does not start with links.binder_url: {prefix}"
        path = url[len(prefix):]
        assert url == links.binder_url(path) and (ROOT / path).is_file(), \
            f"{url} opens {path}, which does not exist"
    assert urls[0] == links.binder_url("notebooks/01_autoencoder.ipynb")
