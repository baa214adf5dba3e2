"""Time each course notebook and measure its kernel's peak memory (``make benchmark``).

Every notebook runs top to bottom in a fresh kernel, with the offline data forced
(``VAE_TUTORIAL_OFFLINE=1``), on an in-memory copy: the committed file is never written.
The wall time covers the whole execution, kernel start included. Peak memory comes from
a cell appended to the copy that prints ``resource.getrusage(...).ru_maxrss`` for the
kernel itself (RUSAGE_SELF) and for the largest child process it waited for
(RUSAGE_CHILDREN; on Linux a forked child's peak starts at its parent's size at the fork).

    python benchmarks/notebooks.py                      # all notebooks/*.ipynb
    python benchmarks/notebooks.py notebooks/01_*.ipynb --json benchmarks/results/run.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import nbformat
from machine import MIB, machine  # benchmarks/machine.py, beside this script
from nbformat.v4 import new_code_cell

from vae_tutorial.notebook_tools import run_notebook

ROOT = Path(__file__).resolve().parents[1]
MARKER = "VAE_TUTORIAL_BENCHMARK"
MEMORY_CELL = f"""\
import json as _json
import resource as _resource
import sys as _sys

_scale = 1 if _sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, kB on Linux
print("{MARKER}", _json.dumps({{
    "self_bytes": _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss * _scale,
    "children_bytes": _resource.getrusage(_resource.RUSAGE_CHILDREN).ru_maxrss * _scale,
}}))
"""


def memory_from_outputs(cell) -> dict:
    for output in cell.get("outputs", []):
        if output.get("output_type") != "stream":
            continue
        for line in output.get("text", "").splitlines():
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER) :])
    raise RuntimeError(f"the memory cell printed no '{MARKER}' line: {cell.get('outputs')}")


def benchmark(path: Path) -> dict:
    """Execute a copy of the notebook at ``path``; return its wall time and peak memory."""
    nb = nbformat.read(path, as_version=4)  # in memory only; never written back
    nb.cells.append(new_code_cell(MEMORY_CELL))
    seconds = run_notebook(nb, path.parent)
    memory = memory_from_outputs(nb.cells[-1])
    return {
        "notebook": path.name,
        "wall_s": round(seconds, 2),
        "peak_mib": round(memory["self_bytes"] / MIB, 1),
        "children_peak_mib": round(memory["children_bytes"] / MIB, 1),
    }


def table(results: list[dict]) -> str:
    width = max([len("notebook"), *(len(r["notebook"]) for r in results)])
    lines = [f"{'notebook':<{width}}  {'wall s':>8}  {'peak MiB':>9}  {'children MiB':>12}"]
    for r in results:
        if "error" in r:
            lines.append(f"{r['notebook']:<{width}}  FAILED: {r['error']}")
        else:
            lines.append(
                f"{r['notebook']:<{width}}  {r['wall_s']:>8.1f}  {r['peak_mib']:>9.1f}  "
                f"{r['children_peak_mib']:>12.1f}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        metavar="NOTEBOOK",
        help="notebooks to run (default: all notebooks/*.ipynb)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)

    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not paths:
        parser.error("no notebooks given and none in notebooks/")
    info = machine()
    print(
        f"{info['cpu_count']} CPUs ({info['cpus_usable']} usable), {info['platform']}, "
        f"Python {info['python']}",
        flush=True,
    )
    results = []
    for path in paths:
        try:
            result = benchmark(path.resolve())
        except Exception as exc:  # report and go on with the other notebooks
            if hasattr(exc, "ename"):  # nbclient's CellExecutionError: the cell's exception
                message = f"{exc.ename}: {exc.evalue}"
            else:
                message = f"{type(exc).__name__}: {exc}"
            result = {"notebook": path.name, "error": message.strip().splitlines()[0]}
        results.append(result)
        status = result["error"] if "error" in result else f"{result['wall_s']} s"
        print(f"  {path.name}: {status}", file=sys.stderr, flush=True)
    print(table(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": info, "notebooks": results}, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
