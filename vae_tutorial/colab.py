"""Google Colab support (issue 12): an "Open in Colab" badge and a Colab-only set-up cell in
each notebook. A maintainer tool that only reads and writes notebook files (no TensorFlow)::

    python -m vae_tutorial.colab notebooks/*.ipynb          # insert or update, in place
    python -m vae_tutorial.colab --check notebooks/*.ipynb  # exit 1 naming what is missing

The set-up cell installs the course package with ``--no-deps``: Colab already has every
run-time dependency that pyproject lists except JupyterLab, which Colab does not need
(``COLAB_PREINSTALLED``, read off Colab's published ``pip freeze``). Letting pip resolve them
would also replace Colab's pinned ipywidgets 7 with ipywidgets 8, whose widgets Colab's front
end does not render. ``tests/test_colab.py`` fails when pyproject gains a dependency that
this list does not account for.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from . import links
from .notebook_tools import read_notebook, write_notebook

BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
SETUP_TAG = "colab-setup"

# Run-time dependencies (pyproject names) that Colab ships, with the version Colab's
# `pip freeze` listed (googlecolab/backend-info, Python 3.13 image of August 2026), and
# those the course does not need on Colab.
COLAB_PREINSTALLED = {
    "tensorflow": "2.20.0",
    "keras": "3.13.2",
    "numpy": "2.1.3",
    "matplotlib": "3.10.0",
    "ipywidgets": "7.7.1",
    "mlxtend": "0.23.4",
    "platformdirs": "4.11.3",
}
NOT_NEEDED_ON_COLAB = {"jupyterlab": "Colab has its own notebook front end"}

_BADGE_RE = re.compile(r"^\[!\[[^\]]*\]\(" + re.escape(BADGE_IMAGE) + r"\)\]\([^)]*\)\s*$")


def badge_markdown(path: str | Path) -> str:
    """The badge line for the notebook at ``path``: a link to ``links.colab_url`` of
    ``notebooks/<its file name>``, the notebook's path in the repository."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({links.colab_url(f'notebooks/{Path(path).name}')})"


def setup_cell_source() -> str:
    """The set-up cell's code (its comments say what it does; Colab's kernel imports
    ``google.colab`` at start-up). Standard library only: it runs before the package exists."""
    return f"""\
# Colab only: install the course's helper package. Colab already has TensorFlow,
# Keras, numpy, matplotlib, ipywidgets and mlxtend, so nothing else is installed.
# Anywhere else (JupyterLab, Binder, a classroom machine) this cell does nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "vae-tutorial @ git+{links.repository_url()}@{links.BRANCH}"],
        check=True,
    )"""


def _is_setup_cell(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and SETUP_TAG in cell.metadata.get("tags", [])


def _with_badge(header: str, badge: str) -> str:
    """``header`` (the first cell's source) with exactly one badge paragraph, right after
    the timing line (after the first line if there is none), where the schedule tool still
    reads the title and timing lines; any old badge and the blank line after it removed."""
    lines = header.splitlines()
    old = [i for i, line in enumerate(lines) if _BADGE_RE.match(line.strip())]
    drop = {*old, *(i + 1 for i in old if i + 1 < len(lines) and not lines[i + 1].strip())}
    lines = [line for i, line in enumerate(lines) if i not in drop]
    at = next((i for i, line in enumerate(lines) if line.startswith("**Teaching")), 0)
    lines[at + 1:at + 1] = ["", badge]
    if at + 3 < len(lines) and lines[at + 3].strip():
        lines.insert(at + 3, "")
    return "\n".join(lines) + ("\n" if header.endswith("\n") else "")


def apply(nb: NotebookNode, path: str | Path) -> bool:
    """Insert or update the badge (:func:`badge_markdown`) and the set-up cell (a code cell
    tagged ``colab-setup`` before the first code cell) in ``nb``, the notebook at ``path``;
    return whether anything changed (a second run changes nothing). ``ValueError`` if the
    first cell is not markdown."""
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        raise ValueError(f"{Path(path).name}: the first cell must be the markdown header "
                         "(title and timing line) that the badge goes into")
    before = copy.deepcopy(nb)
    nb.cells[0].source = _with_badge(nb.cells[0].source, badge_markdown(path))
    source = setup_cell_source()
    setup = [cell for cell in nb.cells if _is_setup_cell(cell)]
    for extra in setup[1:]:
        nb.cells.remove(extra)
    if not setup:
        at = next((i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"),
                  len(nb.cells))
        nb.cells.insert(at, new_code_cell(source, metadata={"tags": [SETUP_TAG]}))
    elif setup[0].source != source:
        setup[0].source, setup[0].outputs, setup[0].execution_count = source, [], None
    return nb != before


def problems(nb: NotebookNode, path: str | Path) -> list[str]:
    """Why ``nb`` lacks an up-to-date badge or set-up cell ([] when it has both)."""
    found = []
    badge = badge_markdown(path)
    if not nb.cells or badge not in nb.cells[0].source.splitlines():
        found.append(f"first cell has no Colab badge line {badge!r}")
    setup = [i for i, cell in enumerate(nb.cells) if _is_setup_cell(cell)]
    first_code = next((i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"), None)
    if len(setup) != 1:
        found.append(f"{len(setup)} code cells tagged {SETUP_TAG!r}; expected 1")
    elif setup[0] != first_code:
        found.append(f"the {SETUP_TAG!r} cell is not the first code cell")
    elif nb.cells[setup[0]].source != setup_cell_source():
        found.append(f"the {SETUP_TAG!r} cell's code is outdated")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae_tutorial.colab", description=(
        "Insert or update the Open-in-Colab badge and the Colab set-up cell in notebooks "
        "(in place; re-execute them afterwards)."))
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a notebook lacks either")
    args = parser.parse_args(argv)
    failed = False
    for path in args.notebooks:
        try:
            nb = read_notebook(path)
            if args.check:
                for problem in problems(nb, path):
                    print(f"{path}: {problem}; run `python -m vae_tutorial.colab {path}`")
                    failed = True
            elif apply(nb, path):
                write_notebook(path, nb)
                print(f"{path}: updated (re-execute it)")
            else:
                print(f"{path}: already up to date")
        except (ValueError, OSError) as exc:  # unreadable notebook, header not markdown
            print(f"error: {exc}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
