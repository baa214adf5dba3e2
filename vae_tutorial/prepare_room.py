"""Prepare a classroom with no reliable network: download MNIST once and pre-train every
cached model, so the room needs neither the network nor the waiting (``make prepare-room``)::

    python -m vae_tutorial.prepare_room [--cache-dir /srv/vae-cache] [--offline] [NOTEBOOK ...]

Introduced for the instructor guide (INSTRUCTORS.md); not used by the notebooks. Imports no
TensorFlow itself (the download step does, through ``load_mnist``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from . import data
from .notebook_tools import run_notebook

CELL_TIMEOUT = 1800  # seconds per cell: a slow laptop training on the full MNIST
MODELS = "models"  # train_or_load_vae's folder inside the cache folder (training.py)


def cache_entries(folder: str | os.PathLike) -> dict[str, str]:
    """What the cache folder holds, sorted by path: {path relative to ``folder``: description}
    for ``mnist.npz`` (checked against its SHA-256), each trained model (``models/<name>-<key>
    .keras``, described by its ``.json``: the data it was trained on, epochs), and other files
    (no description). Files of a download in progress (hidden folders) are left out."""
    folder = Path(folder)
    entries = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        model = relative.parent == Path(MODELS)
        if (not path.is_file() or any(part.startswith(".") for part in relative.parts)
                or model and path.suffix == ".json"):  # a .json is described with its model
            continue
        description = ""
        if relative == Path(data.CACHE_FILENAME):
            description = ("full MNIST, checksum OK" if data.file_sha256(path) == data.MNIST_SHA256
                           else "full MNIST, CHECKSUM MISMATCH (delete it; it will be "
                           "downloaded again)")
        elif model and path.suffix == ".keras":
            description = _model_description(path.with_suffix(".json"))
        entries[str(relative)] = description
    return entries


def _model_description(meta_path: Path) -> str:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))["description"]
        return (f"trained on {meta['data']['source']} data ({meta['data']['train_shape'][0]} "
                f"images), {meta['training']['epochs']} epochs")
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return f"no readable {meta_path.name}: the notebook will retrain this model"


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MiB" if count >= 2**20 else f"{count / 2**10:.0f} KiB"


def report(folder: str | os.PathLike) -> str:
    """A table of :func:`cache_entries` with the folder and its total size."""
    entries = cache_entries(folder)
    sizes = {name: (Path(folder) / name).stat().st_size for name in entries}
    lines = [f"cache folder {folder}: {len(entries)} file(s), {_size(sum(sizes.values()))}"]
    width = max(map(len, entries), default=0)
    for name, description in entries.items():
        lines.append(f"  {name:<{width}}  {_size(sizes[name]):>9}  {description}")
    return "\n".join(lines)


def prepare(notebooks: list[Path], cache_dir: Path, offline: bool) -> int:
    """Fill ``cache_dir`` for a room, print what it holds; return the exit status (0: every
    notebook ran). Unless ``offline`` (a room on the offline subset), first download and check
    the full MNIST (``load_mnist(source="keras")``; without a network this fails at once).
    Then run each notebook in a fresh kernel on a throwaway copy of its folder (the committed
    notebooks are never touched), with ``VAE_TUTORIAL_CACHE_DIR`` and ``VAE_TUTORIAL_OFFLINE``
    as the room will have them, so every ``train_or_load_vae`` call caches its model. Cache
    keys include the data and the Keras version: prepare as the learners will run."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    cache_dir.mkdir(parents=True, exist_ok=True)
    if offline:
        print("offline room: no download; notebooks run on the offline subset "
              f"({data.OFFLINE_ENV}=1), and so must the learners")
    else:
        print(f"downloading the full MNIST into {cache_dir} (once) ...", flush=True)
        loaded = data.load_mnist(source="keras", cache_dir=cache_dir)
        print(f"full MNIST ready: {len(loaded.x_train)} training and {len(loaded.x_test)} "
              "test images")
    env = {**os.environ, data.CACHE_ENV: str(cache_dir), data.OFFLINE_ENV: str(int(offline))}
    failed = []
    with tempfile.TemporaryDirectory(prefix="vae-prepare-room-") as tmp:
        for path in notebooks:
            # A throwaway copy of the notebook's folder: files a notebook writes land there.
            workdir = Path(tmp) / path.parent.name
            if not workdir.exists():
                shutil.copytree(path.parent, workdir)
            before = set(cache_entries(cache_dir))
            print(f"{path.name}: running ...", flush=True)
            try:
                seconds = run_notebook(nbformat.read(path, as_version=4), workdir, env,
                                       timeout=CELL_TIMEOUT)
            except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
                print(f"{path.name}: FAILED; its models may be missing from the cache\n{exc}",
                      file=sys.stderr)
                failed.append(path.name)
                continue
            new = sorted(set(cache_entries(cache_dir)) - before)
            print(f"{path.name}: ran in {seconds:.0f} s; new in the cache: "
                  f"{', '.join(new) if new else 'nothing'}", flush=True)
    print(report(cache_dir))
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"Copy this folder to each learner's machine (or a shared folder they can write "
          f"to) and set {data.CACHE_ENV} to where it is"
          + (f", and {data.OFFLINE_ENV}=1." if offline else
             " (or copy it to their default cache folder); see INSTRUCTORS.md."))
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring); returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m vae_tutorial.prepare_room",
        description="Download MNIST once and pre-train every cached model of every notebook, "
        "for a room without a reliable network.")
    parser.add_argument("notebooks", nargs="*", type=Path, metavar="NOTEBOOK",
                        default=sorted(Path(__file__).resolve().parents[1].glob("notebooks/*.ipynb")),
                        help="notebooks to run (default: notebooks/*.ipynb)")
    parser.add_argument("--cache-dir", type=Path, help=f"the cache folder to fill (default: "
                        f"${data.CACHE_ENV}, else the user cache folder)")
    parser.add_argument("--offline", action="store_true", help="prepare for a room on the "
                        f"offline subset ({data.OFFLINE_ENV}=1, which also implies this)")
    args = parser.parse_args(argv)
    try:
        offline = args.offline or data._offline_forced()
        missing = [str(path) for path in args.notebooks if not path.is_file()]
        if not args.notebooks or missing:
            raise FileNotFoundError(f"no such notebook: {', '.join(missing) or 'none given'}")
        return prepare([path.resolve() for path in args.notebooks], data.cache_dir(args.cache_dir),
                       offline)
    except (data.DataError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
