"""Google Colab support: an "Open in Colab" badge and a Colab-only set-up cell per notebook.

A maintainer tool (issue 12) that only reads and writes notebook files; it imports neither
TensorFlow nor the rest of the package's heavy parts. Command line::

    python -m vae_tutorial.colab notebooks/*.ipynb          # insert or update, in place
    python -m vae_tutorial.colab --check notebooks/*.ipynb  # exit 1 naming what is missing

It is idempotent: a second run changes nothing. What it writes into each notebook:

- the badge, a paragraph of its own in the first cell, right after the timing line (the
  header's title and timing lines stay where the schedule tool reads them), linking to
  ``links.colab_url("notebooks/<name>")``;
- the set-up cell, a code cell tagged ``colab-setup`` placed before the first code cell.
  On Colab (``google.colab`` imported, as Colab's kernel does at start-up) it pip-installs
  the course package from GitHub with ``--no-deps``; anywhere else it does nothing.

Why ``--no-deps``: Colab already has every run-time dependency that pyproject lists except
JupyterLab, which Colab does not need (``COLAB_PREINSTALLED``, read off Colab's published
``pip freeze``). Letting pip resolve them would also replace Colab's pinned ipywidgets 7
with ipywidgets 8, whose widgets Colab's front end does not render. ``tests/test_colab.py``
fails when pyproject gains a dependency that this list does not account for.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from . import links
from .notebook_tools import write_notebook

NOTEBOOK_DIR = "notebooks"  # where the course notebooks live, relative to the repository root
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_ALT = "Open In Colab"
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
_TIMING_PREFIX = "**Teaching"


def notebook_path(path: str | Path) -> str:
    """The notebook's path in the repository (what Colab opens): ``notebooks/<file name>``."""
    return f"{NOTEBOOK_DIR}/{Path(path).name}"


def badge_markdown(path: str | Path) -> str:
    """The badge line for the notebook at ``path`` (only its file name is used)."""
    return f"[![{BADGE_ALT}]({BADGE_IMAGE})]({links.colab_url(notebook_path(path))})"


def install_requirement() -> str:
    """What the set-up cell installs: the course package from the repository's branch."""
    return f"vae-tutorial @ git+{links.repository_url()}@{links.BRANCH}"


def setup_cell_source() -> str:
    """The set-up cell's code. It must run before the package exists, so it imports only
    the standard library."""
    return (
        "# Colab only: install the course's helper package. Colab already has TensorFlow,\n"
        "# Keras, numpy, matplotlib, ipywidgets and mlxtend, so nothing else is installed.\n"
        "# Anywhere else (JupyterLab, Binder, a classroom machine) this cell does nothing.\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    subprocess.run(\n"
        '        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",\n'
        f'         "{install_requirement()}"],\n'
        "        check=True,\n"
        "    )"
    )


def _is_setup_cell(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and SETUP_TAG in cell.metadata.get("tags", [])


def _with_badge(header: str, badge: str) -> str:
    """``header`` (the first cell's source) with exactly one badge paragraph, right after
    the timing line (after the first line if there is none); any old badge is removed."""
    old = header.splitlines()
    lines = []
    skip_blank = False
    for line in old:
        if _BADGE_RE.match(line.strip()):
            skip_blank = True  # an old badge, and the blank line that closes its paragraph
        elif skip_blank and not line.strip():
            skip_blank = False
        else:
            lines.append(line)
            skip_blank = False
    at = next((i for i, line in enumerate(lines) if line.startswith(_TIMING_PREFIX)), 0)
    lines[at + 1:at + 1] = ["", badge]
    if at + 3 < len(lines) and lines[at + 3].strip():
        lines.insert(at + 3, "")
    return "\n".join(lines) + ("\n" if header.endswith("\n") else "")


def apply(nb: NotebookNode, path: str | Path) -> bool:
    """Insert or update the badge and the set-up cell in ``nb`` (the notebook at ``path``);
    return whether anything changed. ``ValueError`` if the first cell is not markdown."""
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        raise ValueError(f"{Path(path).name}: the first cell must be the markdown header "
                         "(title and timing line) that the badge goes into")
    changed = False
    header = _with_badge(nb.cells[0].source, badge_markdown(path))
    if header != nb.cells[0].source:
        nb.cells[0].source, changed = header, True
    source = setup_cell_source()
    setup = [cell for cell in nb.cells if _is_setup_cell(cell)]
    if setup:
        for extra in setup[1:]:
            nb.cells.remove(extra)
            changed = True
        if setup[0].source != source:
            setup[0].source, setup[0].outputs, setup[0].execution_count = source, [], None
            changed = True
    else:
        at = next((i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"),
                  len(nb.cells))
        nb.cells.insert(at, new_code_cell(source, metadata={"tags": [SETUP_TAG]}))
        changed = True
    return changed


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
        nb = nbformat.read(path, as_version=4)
        if args.check:
            for problem in problems(nb, path):
                print(f"{path}: {problem}; run `python -m vae_tutorial.colab {path}`")
                failed = True
            continue
        if apply(nb, path):
            write_notebook(path, nb)
            print(f"{path}: updated (re-execute it)")
        else:
            print(f"{path}: already up to date")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
