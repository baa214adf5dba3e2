"""Time each course notebook and measure its kernel's peak memory (``make benchmark``).

Every notebook runs top to bottom in a fresh kernel, on an in-memory copy (the committed
file is never written), with ``VAE_TUTORIAL_OFFLINE=1``, an empty model cache (a fresh
``VAE_TUTORIAL_CACHE_DIR``) and a fresh ``IPYTHONDIR``. Two modes:

- ``offline``: the 5,000-image offline subset, as the tests and CI run it. Budget: at
  most 60 s (notebooks 01-06; 90 s for 07 onwards) and 1024 MiB peak memory per
  notebook, and at most 10 minutes for the whole course.
- ``full-size``: the kernel's IPython start-up script (in its fresh ``IPYTHONDIR``) makes
  ``vae_tutorial.load_mnist`` return a stand-in for the full MNIST built from the subset
  (60,000 / 10,000 images, ``source == "keras"``; see ``full_size_mnist.py``), so each
  notebook takes its full-data code paths without the network. Budget: at most 180 s.

The wall time covers the whole execution, kernel start included. Peak memory comes from
a cell appended to the copy that prints ``resource.getrusage(...).ru_maxrss`` for the
kernel itself (RUSAGE_SELF) and for the largest child process it waited for
(RUSAGE_CHILDREN; on Linux a forked child's peak starts at its parent's size at the fork),
and what ``load_mnist`` returned in the kernel (the "data" column: source and train/test
sizes, "-" when the notebook loads no MNIST).

    python benchmarks/notebooks.py                      # all notebooks/*.ipynb, offline
    python benchmarks/notebooks.py --mode both notebooks/0[1-6]_*.ipynb
    python benchmarks/notebooks.py --mode full-size notebooks/03_*.ipynb --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from machine import MIB, machine  # benchmarks/machine.py, beside this script
from nbformat.v4 import new_code_cell

from vae_tutorial.notebook_tools import run_notebook

ROOT = Path(__file__).resolve().parents[1]
HOOK = Path(__file__).resolve().with_name("full_size_mnist.py")
MODES = ("offline", "full-size")
BUDGETS = {  # mode -> (seconds, MiB or None)
    "offline": (60.0, 1024.0),
    "full-size": (180.0, None),
}
ADVANCED_FROM, ADVANCED_SECONDS = 7, 90.0  # notebooks 07 onwards: 90 s offline
COURSE_SECONDS = 600.0  # the whole course, offline
MARKER = "VAE_TUTORIAL_BENCHMARK"
MEMORY_CELL = f"""\
import json as _json
import resource as _resource
import sys as _sys

_scale = 1 if _sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, kB on Linux
_hook = _sys.modules.get("full_size_mnist")
print("{MARKER}", _json.dumps({{
    "self_bytes": _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss * _scale,
    "children_bytes": _resource.getrusage(_resource.RUSAGE_CHILDREN).ru_maxrss * _scale,
    "loaded": None if _hook is None else _hook.LOADED,
}}))
"""
# Runs in the kernel before the notebook; keeps the notebook's namespace clean.
STARTUP_SCRIPT = """\
def _vae_tutorial_benchmark_hook():
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("full_size_mnist", {path!r})
    module = importlib.util.module_from_spec(spec)
    sys.modules["full_size_mnist"] = module
    spec.loader.exec_module(module)
    module.install(full={full!r})


_vae_tutorial_benchmark_hook()
del _vae_tutorial_benchmark_hook
"""


@contextlib.contextmanager
def kernel_environment(mode: str):
    """Set ``IPYTHONDIR`` (with the start-up hook) and an empty model cache for the kernel.

    ``run_notebook`` starts the kernel with this process's environment; both variables are
    restored, and the temporary folders removed, on exit.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    with tempfile.TemporaryDirectory(prefix="vae-benchmark-") as tmp:
        startup = Path(tmp, "ipython", "profile_default", "startup")
        startup.mkdir(parents=True)
        script = STARTUP_SCRIPT.format(path=str(HOOK), full=mode == "full-size")
        (startup / "00-vae-tutorial-benchmark.py").write_text(script)
        settings = {"IPYTHONDIR": str(Path(tmp, "ipython")), "VAE_TUTORIAL_CACHE_DIR": tmp}
        saved = {key: os.environ.get(key) for key in settings}
        os.environ.update(settings)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def measurements_from_outputs(cell) -> dict:
    for output in cell.get("outputs", []):
        if output.get("output_type") != "stream":
            continue
        for line in output.get("text", "").splitlines():
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER) :])
    raise RuntimeError(f"the memory cell printed no '{MARKER}' line: {cell.get('outputs')}")


def describe_data(loaded: list | None) -> str:
    """'keras 60000/10000' for each load_mnist call, '-' for none; fails if the hook is absent."""
    if loaded is None:
        raise RuntimeError("the kernel's start-up hook did not run (IPYTHONDIR not honoured?)")
    return ", ".join(f"{source} {train}/{test}" for source, train, test in loaded) or "-"


def verdict(mode: str, seconds: float, peak_mib: float, notebook: str = "") -> str:
    """'yes', or 'NO' with the budgets missed (``notebook``: its file name, for 07's 90 s)."""
    max_seconds, max_mib = BUDGETS[mode]
    number = notebook[:2]
    if mode == "offline" and number.isdigit() and int(number) >= ADVANCED_FROM:
        max_seconds = ADVANCED_SECONDS
    missed = []
    if seconds > max_seconds:
        missed.append(f"{seconds:.0f} s > {max_seconds:.0f} s")
    if max_mib is not None and peak_mib > max_mib:
        missed.append(f"{peak_mib:.0f} MiB > {max_mib:.0f} MiB")
    return f"NO ({'; '.join(missed)})" if missed else "yes"


def benchmark(path: Path, mode: str = "offline") -> dict:
    """Execute a copy of the notebook at ``path`` in ``mode``; return time, memory, verdict."""
    nb = nbformat.read(path, as_version=4)  # in memory only; never written back
    nb.cells.append(new_code_cell(MEMORY_CELL))
    with kernel_environment(mode):
        seconds = run_notebook(nb, path.parent)
    measured = measurements_from_outputs(nb.cells[-1])
    data = describe_data(measured["loaded"])
    if mode == "full-size" and "offline" in data:
        raise RuntimeError(f"full-size mode, but the notebook loaded {data}")
    peak = measured["self_bytes"] / MIB
    return {
        "notebook": path.name,
        "mode": mode,
        "wall_s": round(seconds, 2),
        "peak_mib": round(peak, 1),
        "children_peak_mib": round(measured["children_bytes"] / MIB, 1),
        "data": data,
        "within_budget": verdict(mode, seconds, peak, path.name),
    }


def table(results: list[dict]) -> str:
    width = max([len("notebook"), *(len(r["notebook"]) for r in results)])
    lines = [
        f"{'notebook':<{width}}  {'mode':<9}  {'wall s':>7}  {'peak MiB':>8}  "
        f"{'children MiB':>12}  {'data':<18}  within budget"
    ]
    for r in results:
        if "error" in r:
            lines.append(f"{r['notebook']:<{width}}  {r['mode']:<9}  FAILED: {r['error']}")
        else:
            lines.append(
                f"{r['notebook']:<{width}}  {r['mode']:<9}  {r['wall_s']:>7.1f}  "
                f"{r['peak_mib']:>8.1f}  {r['children_peak_mib']:>12.1f}  {r['data']:<18}  "
                f"{r['within_budget']}"
            )
    budgets = "; ".join(
        f"{mode} <= {seconds:.0f} s" + (f" and <= {mib:.0f} MiB peak" if mib else "")
        for mode, (seconds, mib) in BUDGETS.items()
    )
    offline = [r["wall_s"] for r in results if r["mode"] == "offline" and "error" not in r]
    if offline:
        total = sum(offline)
        lines.append(f"offline total: {total:.0f} s for {len(offline)} notebook(s) "
                     f"({'within' if total <= COURSE_SECONDS else 'OVER'} the course's "
                     f"{COURSE_SECONDS:.0f} s)")
    return "\n".join([*lines, f"budgets: {budgets} ({ADVANCED_SECONDS:.0f} s offline for "
                                f"notebooks {ADVANCED_FROM:02d} onwards)"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        metavar="NOTEBOOK",
        help="notebooks to run (default: all notebooks/*.ipynb)",
    )
    parser.add_argument(
        "--mode",
        choices=(*MODES, "both"),
        default="offline",
        help="offline subset, full-size stand-in, or both (default: offline)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)

    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not paths:
        parser.error("no notebooks given and none in notebooks/")
    modes = MODES if args.mode == "both" else (args.mode,)
    info = machine()
    print(
        f"{info['cpu_count']} CPUs ({info['cpus_usable']} usable), {info['platform']}, "
        f"Python {info['python']}",
        flush=True,
    )
    results = []
    for path in paths:
        for mode in modes:
            try:
                result = benchmark(path.resolve(), mode)
            except Exception as exc:  # report and go on with the other notebooks
                if hasattr(exc, "ename"):  # nbclient's CellExecutionError: the cell's exception
                    message = f"{exc.ename}: {exc.evalue}"
                else:
                    message = f"{type(exc).__name__}: {exc}"
                first_line = (message.strip().splitlines() or [type(exc).__name__])[0]
                result = {"notebook": path.name, "mode": mode, "error": first_line}
            results.append(result)
            status = result.get("error") or f"{result['wall_s']} s, {result['data']}"
            print(f"  {path.name} ({mode}): {status}", file=sys.stderr, flush=True)
    print(table(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": info, "notebooks": results}, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
