"""Smoke test of benchmarks/train_vae.py: a tiny run writes both rows as JSON.

Speed targets live in the benchmark itself, not here; this only checks that the script
runs end to end (each row in its own child process) and reports what it promises. Two
epochs, because seconds per epoch is a median that leaves out the first (tracing) epoch.
``benchmarks/notebooks.py`` is not run in the tests: it executes every notebook.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "train_vae.py"
ROW_KEYS = {
    "row", "heldout_nelbo", "heldout_reconstruction", "heldout_kl", "train_nelbo",
    "final_train_loss", "s_per_epoch", "cpu_s_per_epoch", "first_epoch_s", "total_s",
    "epoch_s", "epoch_cpu_s", "peak_mib", "growth_mib",
}


def test_train_vae_benchmark_writes_both_rows(tmp_path):
    out = tmp_path / "out.json"
    env = dict(os.environ, VAE_TUTORIAL_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--epochs", "2", "--hidden", "16", "--latent-dim", "2",
         "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "package/bare s/epoch:" in proc.stdout
    assert "target held-out -ELBO <= 113 nats" in proc.stdout

    result = json.loads(out.read_text())
    assert [row["row"] for row in result["rows"]] == ["package", "bare"]
    for row in result["rows"]:
        assert ROW_KEYS <= row.keys(), ROW_KEYS - row.keys()
        for key in ROW_KEYS - {"row", "epoch_s", "epoch_cpu_s"}:
            if key == "growth_mib" and not sys.platform.startswith("linux"):
                continue  # read from /proc/self/statm: None elsewhere
            assert isinstance(row[key], float) and math.isfinite(row[key]), (key, row[key])
        assert len(row["epoch_s"]) == len(row["epoch_cpu_s"]) == 2
        assert 0 < row["heldout_kl"] < row["heldout_nelbo"] < 784 * math.log(2) * 2
        assert row["peak_mib"] > 0
    assert math.isfinite(result["ratio"]) and result["ratio"] > 0
    assert set(result["targets"]) == {"heldout_nelbo", "ratio"}
    assert result["settings"]["epochs"] == 2
