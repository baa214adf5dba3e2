"""Tests of benchmarks/capacity.py's parts that need no JupyterHub: the memory reading, the
learners-per-node rule and the hub configuration it writes. The benchmark itself (a real
hub, several learners, minutes of training) is run by hand; see INSTRUCTORS.md.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GIB = 1024**3


@pytest.fixture(scope="module")
def capacity():
    sys.path.insert(0, str(ROOT / "benchmarks"))  # it imports machine and notebooks beside it
    try:
        spec = importlib.util.spec_from_file_location(
            "benchmark_capacity", ROOT / "benchmarks" / "capacity.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return module


def test_smaps_rollup_reads_unique_and_proportional_memory(capacity):
    uss, pss = capacity.smaps_rollup(os.getpid())
    assert 10 * 2**20 < uss <= pss  # this Python process: tens of MiB, PSS includes USS
    assert capacity.smaps_rollup(2**22 + 12345) == (0, 0)  # no such process


def test_learners_per_node_rule(capacity):
    rows = capacity.capacity(peak_uss=1 * GIB, peak_pss=1.25 * GIB, shared=0.5 * GIB,
                             hub=0.2 * GIB)
    assert [row["node_gib"] for row in rows] == [16, 32, 64]
    # 16 GiB: 80% usable = 12.8 GiB; (12.8 - 0.2 - 0.5) / 1 = 12.1; by PSS (12.8 - 0.2) / 1.25
    assert rows[0] == {"node_gib": 16, "usable_gib": 12.8, "learners": 12, "learners_by_pss": 10}
    assert rows[2]["learners"] == 50  # (51.2 - 0.7) / 1 = 50.5
    assert capacity.capacity(100 * GIB, 100 * GIB, 0, 0)[0]["learners"] == 0


def test_hub_configuration_is_loopback_dummy_and_local(capacity, tmp_path):
    text = capacity.HUB_CONFIG.format(
        port=8000, hub_port=8081, proxy_api_port=8001, chp="/x/configurable-http-proxy",
        tmp=tmp_path, singleuser="/x/jupyterhub-singleuser", service=capacity.SERVICE,
        token="t" * 64)
    compile(text, "jupyterhub_config.py", "exec")  # valid Python
    assert 'c.JupyterHub.ip = "127.0.0.1"' in text and 'c.JupyterHub.hub_ip = "127.0.0.1"' in text
    assert 'authenticator_class = "dummy"' in text and 'spawner_class = "simple"' in text
    assert f'home_dir_template = "{tmp_path}/home/{{username}}"' in text


def test_kernel_messages_follow_the_jupyter_protocol(capacity):
    message = capacity.message("execute_request", {"code": "1"}, "session-1")
    assert message["header"]["msg_type"] == "execute_request"
    assert message["header"]["session"] == "session-1" and message["channel"] == "shell"
    assert len(message["header"]["msg_id"]) == 32 and message["content"] == {"code": "1"}
