"""The README is the course's front door: its commands, notebook list and badge must be true.

CI runs `.ci/run`, which must call the README's test command, so a green CI proves the
README. These checks keep the README, the Makefile and notebooks/ from drifting apart.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


def readme_commands() -> list[str]:
    """The commands in the README's "Two commands" code block."""
    section = README.split("## Two commands", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_names_exactly_two_commands_and_the_makefile_has_them():
    commands = readme_commands()
    assert commands == ["make lab", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for command in commands:
        target = command.split()[1]
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"Makefile lacks {target}"


def test_ci_runs_the_readme_test_command_offline():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    code = [line.strip() for line in ci.splitlines() if line.strip() and not line.startswith("#")]
    assert "make test" in code
    assert "export VAE_TUTORIAL_OFFLINE=1" in code


def test_there_are_notebooks_and_the_readme_lists_each():
    assert NOTEBOOKS, "notebooks/ holds no notebook"
    assert NOTEBOOKS[0].startswith("01_")
    listed = re.findall(r"^\| (\d\d) \| `([^`]+)` \|.*\| (ready|coming) \|$", README, re.MULTILINE)
    names = {name: status for _, name, status in listed}
    assert len(listed) == 10, "the README's table lists the ten notebooks of the design"
    for stem in NOTEBOOKS:
        assert names.get(stem) == "ready", f"{stem} missing from the README or not marked ready"
    for name, status in names.items():
        assert (status == "ready") == (name in NOTEBOOKS), f"{name} is marked {status}"


def test_binder_badge_opens_jupyterlab_at_notebook_01():
    badge = re.search(r"https://mybinder\.org/v2/gh/[^)\s]+", README).group(0)
    path = badge.split("urlpath=lab/tree/", 1)[1]
    assert (ROOT / path).is_file(), f"the badge opens {path}, which does not exist"
    assert path.endswith("01_autoencoder.ipynb")
