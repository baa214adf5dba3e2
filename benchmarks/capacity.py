"""Memory per learner on a real local JupyterHub, and learners per hub node (issue 11).

What it does, in a temporary folder, on the loopback interface only:

1. starts a real JupyterHub (``jupyterhub`` from PyPI, ``configurable-http-proxy`` from
   npm) with ``SimpleLocalProcessSpawner`` (each learner's JupyterLab server is a local
   process whose home is ``<tmp>/home/<learner>``) and ``DummyAuthenticator``;
2. logs in ``--learners`` simulated learners through the hub's login form, starts each
   one's JupyterLab server through the hub's REST API, and copies the course's
   ``notebooks/`` into each home (as an nbgitpuller link would);
3. opens the notebook (default: 05, the heaviest: it trains a VAE and the digit judge)
   in a session on every learner's server and executes all its code cells AT ONCE over
   the kernels' websockets, each learner with its own, empty model cache (every kernel
   trains: the worst case, a room that was not prepared);
4. samples ``/proc/<pid>/smaps_rollup`` every ``--interval`` seconds: for each learner the
   unique (USS = Private_Clean + Private_Dirty) and proportional (PSS) memory of the kernel
   (with any child process) plus the single-user JupyterLab server, and the hub + proxy.

From the peaks it prints learners per 16 / 32 / 64 GiB node with this rule: keep
``HEADROOM`` (20%) of the node free (operating system, page cache, spikes, a learner
running one cell twice), take off the hub + proxy and the memory the learners share
(shared libraries such as TensorFlow's, counted once: the sum of PSS minus the sum of USS
over the learners), and divide the rest by the largest per-learner peak USS, assuming
every learner peaks at the same moment (they run the same cell together). The per-learner
peak PSS gives a cruder, lower cross-check (it charges each learner a share of the
shared pages, as split among the learners measured).

``--data full-size`` (the default) gives each kernel the full-size MNIST stand-in of
``benchmarks/full_size_mnist.py`` (what learners on a hub with network get: the notebooks
cap the full training set, and use more memory than on the offline subset);
``--data offline`` uses the 5,000-image offline subset.

It is not part of ``make test`` (it loads the machine for minutes). Install, in a venv of
its own (from the repository root)::

    python3 -m venv /tmp/venv-capacity
    /tmp/venv-capacity/bin/pip install -e ".[test]" jupyterhub
    npm install --prefix /tmp/chp configurable-http-proxy
    /tmp/venv-capacity/bin/python benchmarks/capacity.py --learners 4 \\
        --chp /tmp/chp/node_modules/.bin/configurable-http-proxy --json capacity.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
import requests
from machine import MIB, machine  # benchmarks/machine.py, beside this script
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from notebooks import HOOK, STARTUP_SCRIPT  # the full-size MNIST stand-in's start-up hook

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NOTEBOOK = ROOT / "notebooks" / "05_variational_autoencoder.ipynb"
GIB = 1024 * MIB
NODES_GIB = (16, 32, 64)
HEADROOM = 0.20  # fraction of a node's memory kept free
SERVICE = "capacity-benchmark"

HUB_CONFIG = """\
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.JupyterHub.db_url = "sqlite:///{tmp}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{tmp}/jupyterhub_cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{tmp}/home/{{username}}"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = ["--allow-root"]  # harmless when not root; containers often run as root
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
c.Spawner.environment = {{"VAE_TUTORIAL_OFFLINE": "1"}}
c.JupyterHub.services = [{{"name": "{service}", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "{service}",
    "scopes": ["admin:users", "admin:servers", "access:servers", "list:users"],
    "services": ["{service}"],
}}]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def smaps_rollup(pid: int) -> tuple[int, int]:
    """(USS, PSS) of process ``pid`` in bytes from /proc/<pid>/smaps_rollup; (0, 0) if gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0, 0
    kib = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+):\s+(\d+) kB", text, re.MULTILINE)}
    return (kib.get("Private_Clean", 0) + kib.get("Private_Dirty", 0)) * 1024, kib["Pss"] * 1024


def memory_of(processes: list[psutil.Process]) -> tuple[int, int]:
    uss = pss = 0
    for process in processes:
        u, p = smaps_rollup(process.pid)
        uss, pss = uss + u, pss + p
    return uss, pss


@dataclass
class Learner:
    name: str
    server: psutil.Process | None = None
    kernel_id: str = ""
    seconds: float = 0.0
    peak: dict = field(default_factory=lambda: dict.fromkeys(
        ("uss", "pss", "kernel_uss", "kernel_pss", "server_uss", "server_pss"), 0))
    idle: dict = field(default_factory=dict)  # server + freshly started kernel, before running

    def kernel_processes(self) -> list[psutil.Process]:
        try:
            return self.server.children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def sample(self) -> dict:
        server_uss, server_pss = memory_of([self.server])
        kernel_uss, kernel_pss = memory_of(self.kernel_processes())
        return {"uss": server_uss + kernel_uss, "pss": server_pss + kernel_pss,
                "kernel_uss": kernel_uss, "kernel_pss": kernel_pss,
                "server_uss": server_uss, "server_pss": server_pss}


class Hub:
    """A JupyterHub process in ``tmp``; ``api`` calls its REST API with the service token."""

    def __init__(self, tmp: Path, chp: str):
        self.tmp, self.token = tmp, secrets.token_hex(32)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        bin_dir = Path(sys.executable).parent
        singleuser = shutil.which("jupyterhub-singleuser", path=str(bin_dir))
        if singleuser is None:
            raise SystemExit(f"no jupyterhub-singleuser beside {sys.executable}; install "
                             "jupyterhub into this venv (see --help)")
        config = tmp / "jupyterhub_config.py"
        config.write_text(HUB_CONFIG.format(
            port=self.port, hub_port=free_port(), proxy_api_port=free_port(), chp=chp,
            tmp=tmp, singleuser=singleuser, service=SERVICE, token=self.token))
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
        for key in ("VAE_TUTORIAL_CACHE_DIR", "IPYTHONDIR", "JUPYTER_RUNTIME_DIR",
                    "JUPYTER_CONFIG_DIR", "XDG_CACHE_HOME"):
            env.pop(key, None)  # each learner gets its own, under its home
        self.log = open(tmp / "jupyterhub.log", "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=tmp, env=env,
            stdout=self.log, stderr=subprocess.STDOUT)
        self.wait(lambda: requests.get(f"{self.url}/hub/api/", timeout=5).ok, 120, "the hub")

    def wait(self, ready, seconds: float, what: str):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the hub exited; see {self.tmp / 'jupyterhub.log'}")
            try:
                if ready():
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise TimeoutError(f"{what} not ready after {seconds} s; see {self.tmp}/jupyterhub.log")

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        response = requests.request(method, f"{self.url}{path}", headers=headers, timeout=60,
                                    **kwargs)
        response.raise_for_status()
        return response

    def login(self, name: str) -> None:
        """Log ``name`` in through the hub's login form (DummyAuthenticator takes any
        password), as a learner's browser would; this creates the user."""
        browser = requests.Session()
        page = browser.get(f"{self.url}/hub/login", timeout=30)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
        form = {"username": name, "password": "any", **({"_xsrf": xsrf[1]} if xsrf else {})}
        answer = browser.post(f"{self.url}/hub/login?next=", data=form, timeout=30,
                              allow_redirects=False)
        if answer.status_code != 302 or "jupyterhub-session-id" not in browser.cookies:
            raise RuntimeError(f"login of {name} failed: HTTP {answer.status_code}")

    def start_server(self, learner: Learner) -> None:
        self.api("POST", f"/hub/api/users/{learner.name}/server")
        self.wait(lambda: self.api("GET", f"/hub/api/users/{learner.name}").json()
                  ["servers"].get("", {}).get("ready"), 300, f"{learner.name}'s server")
        servers = [p for p in psutil.Process(self.process.pid).children()
                   if "jupyterhub-singleuser" in " ".join(p.cmdline())
                   and p.environ().get("JUPYTERHUB_USER") == learner.name]
        if len(servers) != 1:
            raise RuntimeError(f"found {len(servers)} server processes for {learner.name}")
        learner.server = servers[0]

    def own_processes(self) -> list[psutil.Process]:
        """The hub and the proxy (the hub's children that are not learners' servers)."""
        hub = psutil.Process(self.process.pid)
        return [hub] + [p for p in hub.children()
                        if "jupyterhub-singleuser" not in " ".join(p.cmdline())]

    def stop(self) -> None:
        """Stop the hub, then whatever it started (proxy, servers, kernels) that is left."""
        try:
            started = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            started = []
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for process in started:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.terminate()
        psutil.wait_procs(started, timeout=10)
        for process in started:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        self.log.close()


def message(msg_type: str, content: dict, session: str) -> dict:
    header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": SERVICE,
              "session": session, "version": "5.3",
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat()}
    return {"header": header, "parent_header": {}, "metadata": {}, "content": content,
            "channel": "shell", "buffers": []}


async def reply_to(connection, request: dict, timeout: float) -> dict:
    """Send ``request``; return its reply on the shell channel (error outputs raise)."""
    await connection.write_message(json.dumps(request))
    msg_id = request["header"]["msg_id"]
    while True:
        raw = await asyncio.wait_for(connection.read_message(), timeout)
        if raw is None:
            raise RuntimeError("the kernel's websocket closed")
        if isinstance(raw, bytes):  # a message with binary buffers (widgets): not ours
            continue
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if msg["msg_type"].endswith("_reply"):
            return msg["content"]


async def run_cells(hub: Hub, learner: Learner, cells: list[str], timeout: float) -> None:
    url = (f"ws://127.0.0.1:{hub.port}/user/{learner.name}/api/kernels/{learner.kernel_id}"
           f"/channels")
    request = HTTPRequest(url, headers={"Authorization": f"token {hub.token}"})
    connection = await websocket_connect(request)
    session = uuid.uuid4().hex
    start = time.perf_counter()
    try:
        await reply_to(connection, message("kernel_info_request", {}, session), timeout)
        for number, code in enumerate(cells, start=1):
            content = {"code": code, "silent": False, "store_history": True,
                       "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
            reply = await reply_to(connection, message("execute_request", content, session),
                                   timeout)
            if reply["status"] != "ok":
                raise RuntimeError(f"{learner.name}, code cell {number}: "
                                   f"{reply.get('ename')}: {reply.get('evalue')}")
    finally:
        connection.close()
    learner.seconds = time.perf_counter() - start


async def run_all(hub: Hub, learners: list[Learner], cells: list[str], interval: float,
                  timeout: float) -> dict:
    """Run ``cells`` on every learner's kernel at once while sampling memory; the peaks."""
    totals = {"uss": 0, "pss": 0, "shared": 0, "hub_pss": 0, "samples": 0}

    def sample():
        rows = [learner.sample() for learner in learners]
        for learner, row in zip(learners, rows, strict=True):
            for key, value in row.items():
                learner.peak[key] = max(learner.peak[key], value)
        uss, pss = sum(r["uss"] for r in rows), sum(r["pss"] for r in rows)
        totals["uss"], totals["pss"] = max(totals["uss"], uss), max(totals["pss"], pss)
        totals["shared"] = max(totals["shared"], pss - uss)
        totals["hub_pss"] = max(totals["hub_pss"], memory_of(hub.own_processes())[1])
        totals["samples"] += 1

    tasks = [asyncio.create_task(run_cells(hub, learner, cells, timeout))
             for learner in learners]
    while not all(task.done() for task in tasks):
        sample()
        await asyncio.sleep(interval)
    sample()
    for task in tasks:
        task.result()  # re-raise a learner's failure
    return totals


def capacity(peak_uss: float, peak_pss: float, shared: float, hub: float) -> list[dict]:
    """Learners per node (see the module docstring for the rule)."""
    rows = []
    for gib in NODES_GIB:
        usable = gib * GIB * (1 - HEADROOM)
        rows.append({
            "node_gib": gib,
            "usable_gib": round(usable / GIB, 1),
            "learners": max(0, math.floor((usable - hub - shared) / peak_uss)),
            "learners_by_pss": max(0, math.floor((usable - hub) / peak_pss)),
        })
    return rows


def prepare_home(tmp: Path, name: str, data: str) -> None:
    home = tmp / "home" / name
    shutil.copytree(ROOT / "notebooks", home / "vae-tutorial" / "notebooks")
    if data == "full-size":
        startup = home / ".ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-vae-tutorial-benchmark.py").write_text(
            STARTUP_SCRIPT.format(path=str(HOOK), full=True))


def measure(args) -> dict:
    nb = nbformat.read(args.notebook, as_version=4)
    cells = [cell.source for cell in nb.cells if cell.cell_type == "code" and cell.source.strip()]
    relative = f"vae-tutorial/notebooks/{Path(args.notebook).name}"
    with tempfile.TemporaryDirectory(prefix="vae-capacity-") as tmp_name:
        tmp = Path(tmp_name)
        learners = [Learner(f"learner{i}") for i in range(1, args.learners + 1)]
        for learner in learners:
            prepare_home(tmp, learner.name, args.data)
        hub = Hub(tmp, args.chp)
        try:
            for learner in learners:
                hub.login(learner.name)
                hub.start_server(learner)
                print(f"{learner.name}: logged in, JupyterLab server ready "
                      f"(pid {learner.server.pid})", flush=True)
            for learner in learners:
                session = hub.api("POST", f"/user/{learner.name}/api/sessions", json={
                    "path": relative, "name": Path(relative).name, "type": "notebook",
                    "kernel": {"name": "python3"}}).json()
                learner.kernel_id = session["kernel"]["id"]
            time.sleep(5)  # kernels up
            for learner in learners:
                learner.idle = learner.sample()
            print(f"running {relative} on {len(learners)} kernels at once ...", flush=True)
            start = time.perf_counter()
            totals = asyncio.run(run_all(hub, learners, cells, args.interval, args.timeout))
            wall = time.perf_counter() - start
            load = os.getloadavg()
        except BaseException:
            tail = (tmp / "jupyterhub.log").read_text().splitlines()[-40:]
            print("the hub's log ends:", *tail, sep="\n", file=sys.stderr)
            raise
        finally:
            hub.stop()
    peak_uss = max(learner.peak["uss"] for learner in learners)
    peak_pss = max(learner.peak["pss"] for learner in learners)
    return {
        "machine": machine(),
        "notebook": Path(args.notebook).name,
        "data": args.data,
        "learners": len(learners),
        "wall_s": round(wall, 1),
        "load_average_1_5_15": [round(x, 2) for x in load],
        "samples": totals["samples"],
        "per_learner": [{
            "learner": learner.name, "seconds": round(learner.seconds, 1),
            **{f"peak_{k}_mib": round(v / MIB) for k, v in learner.peak.items()},
            **{f"idle_{k}_mib": round(v / MIB) for k, v in learner.idle.items()},
        } for learner in learners],
        "peak_uss_mib": round(peak_uss / MIB),
        "peak_pss_mib": round(peak_pss / MIB),
        "all_learners_peak_uss_mib": round(totals["uss"] / MIB),
        "all_learners_peak_pss_mib": round(totals["pss"] / MIB),
        "shared_mib": round(totals["shared"] / MIB),
        "hub_and_proxy_pss_mib": round(totals["hub_pss"] / MIB),
        "headroom": HEADROOM,
        "nodes": capacity(peak_uss, peak_pss, totals["shared"], totals["hub_pss"]),
    }


def report(result: dict) -> str:
    lines = [
        f"{result['learners']} learners ran {result['notebook']} ({result['data']} data) at "
        f"once on a local JupyterHub: {result['wall_s']} s wall; load average "
        f"{result['load_average_1_5_15']} on {result['machine']['cpu_count']} CPUs; "
        f"{result['samples']} memory samples",
        "",
        "learner     seconds  peak USS  peak PSS  (kernel USS/PSS, server USS/PSS)  idle USS",
    ]
    for row in result["per_learner"]:
        lines.append(
            f"{row['learner']:<10} {row['seconds']:>8} {row['peak_uss_mib']:>6} MiB "
            f"{row['peak_pss_mib']:>5} MiB  ({row['peak_kernel_uss_mib']}/"
            f"{row['peak_kernel_pss_mib']}, {row['peak_server_uss_mib']}/"
            f"{row['peak_server_pss_mib']} MiB)  {row['idle_uss_mib']} MiB")
    lines += [
        "",
        f"per learner (kernel + JupyterLab server), largest peak: USS {result['peak_uss_mib']} "
        f"MiB, PSS {result['peak_pss_mib']} MiB",
        f"all learners together, peak: USS {result['all_learners_peak_uss_mib']} MiB, PSS "
        f"{result['all_learners_peak_pss_mib']} MiB; shared between them (PSS - USS) "
        f"{result['shared_mib']} MiB; hub + proxy PSS {result['hub_and_proxy_pss_mib']} MiB",
        "",
        f"learners per node ({result['headroom']:.0%} of the node kept free; the rest minus "
        f"hub, proxy and shared memory, divided by the peak USS per learner; by PSS: the "
        f"rest minus hub and proxy divided by the peak PSS per learner):",
    ]
    for row in result["nodes"]:
        lines.append(f"  {row['node_gib']:>2} GiB node ({row['usable_gib']} GiB usable): "
                     f"{row['learners']} learners (by PSS: {row['learners_by_pss']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Measure memory per learner on a real local JupyterHub (see the "
        "module docstring for the install lines).")
    parser.add_argument("--learners", type=int, default=4, help="simulated learners (4)")
    parser.add_argument("--notebook", type=Path, default=DEFAULT_NOTEBOOK)
    parser.add_argument("--data", choices=("full-size", "offline"), default="full-size")
    parser.add_argument("--chp", default=shutil.which("configurable-http-proxy"),
                        help="path of configurable-http-proxy (npm)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between samples")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per cell")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.chp is None or not Path(args.chp).exists():
        parser.error("configurable-http-proxy not found: npm install --prefix /tmp/chp "
                     "configurable-http-proxy, then --chp /tmp/chp/node_modules/.bin/"
                     "configurable-http-proxy")
    if args.learners < 1:
        parser.error("--learners must be at least 1")
    result = measure(args)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
