"""The dependency lists agree, and Binder builds from binder/ (no network, no Docker).

pyproject.toml is the source of truth; environment.yml (conda users) and
binder/environment.yml (mybinder.org / repo2docker) must list the same packages with the
same version bounds, and .ci/lowest-constraints.txt (`make test-lowest`) must pin each
dependency to exactly its lower bound. The repo2docker test renders the Dockerfile with
``--no-build``, which needs neither a Docker daemon nor the network.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml  # PyYAML: required by jupyter-events, which jupyterlab pulls in
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
ROOT_ENV = ROOT / "environment.yml"
BINDER_ENV = ROOT / "binder" / "environment.yml"
POST_BUILD = ROOT / "binder" / "postBuild"
LOWEST = ROOT / ".ci" / "lowest-constraints.txt"
EDITABLE_SELF = "-e ."
# Installed through the pip section: conda-forge TensorFlow builds lag behind PyPI.
PIP_ONLY = {"tensorflow", "keras"}


def normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def parse(spec: str, where: str) -> tuple[str, SpecifierSet]:
    """Name and bounds of ``numpy>=1.26,<3`` (PEP 508, which is also valid conda syntax)."""
    try:
        requirement = Requirement(spec)
    except Exception as exc:
        pytest.fail(f"{where}: cannot parse {spec!r} ({exc}); write ranges as 'name>=a,<b'")
    return normalise(requirement.name), requirement.specifier


@pytest.fixture(scope="module")
def pyproject() -> dict:
    toml = tomllib or pytest.importorskip(
        "tomli", reason="Python 3.10 has no tomllib and tomli is not installed"
    )
    with PYPROJECT.open("rb") as handle:
        return toml.load(handle)


def load_env(path: Path) -> tuple[dict, list[str], list[str]]:
    """The parsed file, its conda dependencies and its pip dependencies."""
    env = yaml.safe_load(path.read_text(encoding="utf-8"))
    conda, pip, pip_sections = [], [], 0
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            assert set(dep) == {"pip"}, f"{path.name}: unexpected section {dep}"
            pip_sections += 1
            pip.extend(str(item).strip() for item in dep["pip"])
        else:
            conda.append(str(dep).strip())
    assert pip_sections == 1, f"{path}: expected exactly one pip: section"
    return env, conda, pip


def expected_packages(pyproject: dict) -> dict[str, SpecifierSet]:
    deps = dict(parse(dep, "pyproject.toml") for dep in pyproject["project"]["dependencies"])
    deps["python"] = SpecifierSet(pyproject["project"]["requires-python"])
    return deps


@pytest.mark.parametrize("path", [ROOT_ENV, BINDER_ENV], ids=["root", "binder"])
def test_environment_matches_pyproject(pyproject, path):
    env, conda, pip = load_env(path)
    assert env["name"] == "vae-tutorial"
    assert env["channels"] == ["conda-forge"], f"{path}: only conda-forge"
    assert "pip" in conda, f"{path}: list pip itself so the pip: section has a pip to run"

    listed: dict[str, SpecifierSet] = {}
    for where, specs in (("conda", conda), ("pip", pip)):
        for spec in specs:
            if spec == "pip" or spec == EDITABLE_SELF:
                continue
            name, bounds = parse(spec, f"{path.name} ({where})")
            assert name not in listed, f"{path}: {name} listed twice"
            listed[name] = bounds
            if name in PIP_ONLY:
                assert where == "pip", f"{path}: install {name} from pip, not conda-forge"

    expected = expected_packages(pyproject)
    label = str(path.relative_to(ROOT))
    drift = {
        name: {"pyproject.toml": str(expected.get(name, "-")), label: str(listed.get(name, "-"))}
        for name in sorted(set(expected) | set(listed))
        if expected.get(name) != listed.get(name)
    }
    assert not drift, f"{label} drifted from pyproject.toml: {drift}"


def lower_bound(name: str, bounds: SpecifierSet) -> Version:
    lower = [spec for spec in bounds if spec.operator == ">="]
    assert len(lower) == 1, f"pyproject.toml: {name} needs exactly one lower bound '>=x'"
    return Version(lower[0].version)


def test_lowest_constraints_pin_every_lower_bound(pyproject):
    """`make test-lowest` tests what pyproject promises: each dependency (and test tool) at
    exactly its lower bound, which must therefore be a released version (2.16.1, not 2.16)."""
    project = pyproject["project"]
    specs = project["dependencies"] + project["optional-dependencies"]["test"]
    wanted = {name: lower_bound(name, bounds)
              for name, bounds in (parse(spec, "pyproject.toml") for spec in specs)}
    pinned = {}
    for line in LOWEST.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, bounds = parse(line, LOWEST.name)
            (spec,) = bounds
            assert spec.operator == "==", f"{LOWEST.name}: pin {name} with ==, not {spec}"
            pinned[name] = Version(spec.version)
    # Versions compare as pip does (3.8 == 3.8.0); tensorflow 2.16.0 was never released, so
    # its bound must name the release that the pin installs, 2.16.1.
    drift = {name: {"pyproject.toml": str(wanted.get(name, "-")),
                    LOWEST.name: str(pinned.get(name, "-"))}
             for name in sorted(set(wanted) | set(pinned)) if wanted.get(name) != pinned.get(name)}
    assert not drift, f"{LOWEST.name} must pin exactly pyproject.toml's lower bounds: {drift}"


def test_only_root_environment_installs_the_package_editable():
    _, _, root_pip = load_env(ROOT_ENV)
    _, _, binder_pip = load_env(BINDER_ENV)
    assert EDITABLE_SELF in root_pip
    # repo2docker copies binder/environment.yml before the repository, so `-e .` would
    # either fail or force the whole environment to rebuild on every notebook change.
    assert not [line for line in binder_pip if line.startswith(("-e", "--editable", "."))]


def test_post_build_installs_the_package():
    mode = POST_BUILD.stat().st_mode
    assert mode & stat.S_IXUSR, "binder/postBuild must be executable (chmod +x)"
    lines = POST_BUILD.read_text(encoding="utf-8").splitlines()
    assert lines[0] in ("#!/bin/bash", "#!/usr/bin/env bash")
    code = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert "set -euo pipefail" in code
    installs = [line for line in code if re.match(r"python3? -m pip install\b.*\s\.$", line)]
    assert len(installs) == 1, f"postBuild must install the package from the repo root: {code}"
    assert "--no-deps" in installs[0].split(), "dependencies come from binder/environment.yml"


def clean_copy(destination: Path) -> Path:
    """The files Binder needs, without .venv, caches or other untracked junk."""
    destination.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints")
    for name in ("pyproject.toml", "environment.yml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, destination / name)
    for name in ("binder", "vae_tutorial"):
        shutil.copytree(ROOT / name, destination / name, ignore=ignore)
    return destination


def test_repo2docker_builds_from_binder_directory(tmp_path):
    exe = Path(sys.executable).parent / "jupyter-repo2docker"
    if not exe.exists():
        pytest.skip(f"jupyter-repo2docker is not installed next to {sys.executable}")
    repo = clean_copy(tmp_path / "repo")
    # --no-build --debug prints the generated Dockerfile and stops: no Docker, no network.
    command = [str(exe), "--no-build", "--no-run", "--debug"]
    command += ["--user-id", "1000", "--user-name", "jovyan", str(repo)]
    result = subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, "PYTHONUTF8": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    dockerfile = result.stdout
    assert "FROM " in dockerfile, f"no Dockerfile printed:\n{output}"

    # Conda BuildPack on binder/environment.yml, installed before the repository is copied
    # (so the environment layer is cached across notebook edits) ...
    env_update = re.search(r'env update -p \S+ --file "binder/environment\.yml"', dockerfile)
    assert env_update, f"conda environment not built from binder/environment.yml:\n{dockerfile}"
    assert "src/binder/environment.yml" in dockerfile
    assert env_update.start() < dockerfile.index("COPY --chown=1000:1000 src/ ${REPO_DIR}/")
    # ... then binder/postBuild, from the repository root (WORKDIR ${REPO_DIR}).
    assert "RUN ./binder/postBuild" in dockerfile
    assert env_update.start() < dockerfile.index("RUN ./binder/postBuild")
    # The root environment.yml (with `-e .`) is ignored once binder/ exists.
    assert not re.search(r"(?<![\w/])environment\.yml", dockerfile), dockerfile
    assert "binder/start" not in dockerfile
