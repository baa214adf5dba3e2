"""The explorers of notebooks 03 and 06, run as a learner runs them: in JupyterLab, in Chromium.

One JupyterLab server (127.0.0.1, a free port, no token, fresh workspace, settings,
runtime, config and data folders) serves a temporary copy of notebooks/, so the committed
outputs are never touched. For each notebook the test opens it, clears every output, runs
"Run All Cells" from the command palette, waits until every code cell has run in order in
the fresh kernel, and checks that no cell shows a traceback or an error. Then it moves a
slider of the notebook's explorer as a learner does (03: the right-arrow key on the focused
handle; 06: a mouse drag) and checks that the kernel redrew what the explorer shows: the KL
label (03: the new value, to four decimals) and the plot, the decoded digit (06); and that
no error appeared, in a cell or in the notebook's Log Console (where an exception in a
slider's callback goes). Unit tests (tests/test_widgets.py) check the explorers from
Python; only a browser shows the widget front end, the comm round trip and the notebook as
a whole working together.

The kernel uses the offline data (VAE_TUTORIAL_OFFLINE=1) and the model cache named by
VAE_TUTORIAL_CACHE_DIR (`make test` sets it to .test-cache, which nbval has filled by the
time this runs, so notebook 06 loads its VAE instead of training it), or a fresh one.
"""

from __future__ import annotations

import base64
import http.cookiejar
import io
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import numpy as np
import pytest
from matplotlib.image import imread

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
KL_NOTEBOOK = "03_kl_divergence.ipynb"
LATENT_NOTEBOOK = "06_exploring_the_latent_space.ipynb"

SERVER_START_TIMEOUT = 120  # seconds
RUN_ALL_TIMEOUT = 900  # seconds: notebook 06 trains its models when the cache is empty
WIDGET_TIMEOUT = 60  # seconds for the kernel to redraw after a slider moved
IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
STDERR = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
# User settings for the fresh JupyterLab: render every cell (no virtual scrolling, so
# every cell is in the page), and no news or update checks (no network, no pop-ups).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


class Lab:
    """A running JupyterLab: its base ``url``, its ``root`` folder and its ``log`` file."""

    def __init__(self, url: str, root: Path, log: Path):
        self.url, self.root, self.log = url, root, log
        self._cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self._cookies))

    def api(self, path: str, method: str = "GET"):
        """Call the server's REST API; a DELETE sends the XSRF token that a GET set."""
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method)
        xsrf = [cookie.value for cookie in self._cookies if cookie.name == "_xsrf"]
        if xsrf:
            request.add_header("X-XSRFToken", xsrf[0])
        with self._opener.open(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        """Free the memory of the kernels this test started (the machine is shared)."""
        self._opener.open(f"{self.url}/lab", timeout=30).read()  # sets the _xsrf cookie
        for kernel in self.api("kernels"):
            self.api(f"kernels/{kernel['id']}", method="DELETE")
        assert self.api("kernels") == []


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One JupyterLab server for both notebooks, on a copy of notebooks/."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = base / "settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    folders = {name: base / name for name in ("workspaces", "runtime", "config", "data",
                                              "ipython", "cache")}
    for folder in folders.values():
        folder.mkdir()
    env = dict(
        os.environ,
        # The kernel imports this checkout's package and reads nothing from the user's
        # Jupyter or IPython set-up (a start-up script there could change what runs).
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        JUPYTER_RUNTIME_DIR=str(folders["runtime"]),
        JUPYTER_CONFIG_DIR=str(folders["config"]),
        JUPYTER_DATA_DIR=str(folders["data"]),
        IPYTHONDIR=str(folders["ipython"]),
        VAE_TUTORIAL_OFFLINE="1",
        VAE_TUTORIAL_CACHE_DIR=os.environ.get("VAE_TUTORIAL_CACHE_DIR") or str(folders["cache"]),
    )
    port = free_port()
    log = base / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
               "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
               "--IdentityProvider.token=", "--ServerApp.password=",
               f"--ServerApp.root_dir={root}",
               f"--LabApp.workspaces_dir={folders['workspaces']}",
               f"--LabApp.user_settings_dir={settings}"]
    with log.open("wb") as log_file:
        server = subprocess.Popen(command, env=env, cwd=root, stdout=log_file,
                                  stderr=subprocess.STDOUT)
    running = Lab(f"http://127.0.0.1:{port}", root, log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {server.returncode} before it "
                            f"served {running.url}; its log ends:\n{tail(log)}")
            try:
                running.api("status")
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer at {running.url} within "
                                f"{SERVER_START_TIMEOUT} s; its log ends:\n{tail(log)}")
                time.sleep(0.5)
        yield running
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def cell_index(notebook: str, text: str) -> int:
    """Index (among all cells) of the one code cell whose source contains ``text``."""
    cells = nbformat.read(NOTEBOOKS / notebook, as_version=4).cells
    found = [i for i, cell in enumerate(cells) if cell.cell_type == "code" and text in cell.source]
    assert len(found) == 1, f"{notebook}: expected one code cell with {text!r}, found {found}"
    return found[0]


def code_cell_count(notebook: str) -> int:
    cells = nbformat.read(NOTEBOOKS / notebook, as_version=4).cells
    return sum(cell.cell_type == "code" for cell in cells)


def palette(page, command: str) -> None:
    """Run ``command`` (its label, as the learner types it) from the command palette."""
    field = page.locator(".lm-CommandPalette-input")
    active = page.locator(".lm-CommandPalette-item.lm-mod-active .lm-CommandPalette-itemLabel")
    problem = "it did not open"
    for _ in range(3):  # a busy page can drop a key press or close the palette again
        try:
            if not field.is_visible():
                page.keyboard.press("Control+Shift+C")
            field.fill(command, timeout=10_000)
            label = active.inner_text(timeout=10_000).strip()
            if label == command:
                field.press("Enter")
                return
            problem = f"it offered {label!r}"
        except Exception as exc:  # Playwright's TimeoutError; retried
            problem = str(exc).splitlines()[0]
        page.keyboard.press("Escape")
    pytest.fail(f"could not run {command!r} from the command palette: {problem}")


def prompts(page) -> list[str]:
    return page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").all_inner_texts()


def is_error(text: str) -> bool:
    return any(word in text for word in ("Traceback", "Error", "Exception"))


def error_outputs(page) -> list[str]:
    """Texts of the outputs that show a traceback or an error (errors render as stderr)."""
    return [text for text in page.locator(STDERR).all_inner_texts() if is_error(text)]


def wait_for_run_all(page, lab: Lab, notebook: str, expected: list[str], artifacts: Path):
    """Wait until the prompts read ``expected`` with the kernel idle; fail at once on an error
    output, or when the kernel has been idle for 30 s with cells not run."""
    deadline = time.monotonic() + RUN_ALL_TIMEOUT
    idle_since = None
    while True:
        page.wait_for_timeout(1000)
        now_prompts = prompts(page)
        idle = page.locator(IDLE).count() > 0
        errors = error_outputs(page)
        if idle and now_prompts == expected and not errors:
            return
        if idle and "[*]:" not in now_prompts:
            idle_since = idle_since or time.monotonic()
        else:
            idle_since = None
        problem = None
        if errors:
            problem = "a cell shows an error"
        elif idle_since and time.monotonic() - idle_since > 30:
            problem = "the kernel is idle but not every cell ran"
        elif time.monotonic() > deadline:
            problem = f"Run All did not finish within {RUN_ALL_TIMEOUT} s"
        if problem:
            shot = artifacts / f"{notebook}-run-all.png"
            page.screenshot(path=str(shot))
            pytest.fail(f"{notebook}: {problem}; prompts {now_prompts}; error outputs:\n"
                        + "\n---\n".join(errors)
                        + f"\nscreenshot {shot}; JupyterLab log ends:\n{tail(lab.log)}")


def open_and_run_all(chromium, lab: Lab, notebook: str, artifacts: Path):
    """A page with ``notebook`` open, every cell run in order in a fresh kernel, no errors."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.problems = []  # uncaught JavaScript exceptions on the page
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    page.set_default_timeout(60_000)
    page.goto(f"{lab.url}/lab/tree/{notebook}?reset")
    n_code = code_cell_count(notebook)
    page.wait_for_function("n => document.querySelectorAll('.jp-Notebook .jp-CodeCell').length"
                           " === n", arg=n_code, timeout=120_000)
    page.wait_for_selector(IDLE, timeout=120_000)
    page.locator(".jp-Notebook .jp-Cell").first.click()
    page.keyboard.press("Escape")  # command mode

    # Clear first, so that every output and prompt checked below comes from this run.
    palette(page, "Clear Outputs of All Cells")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]"
        ".every(p => p.textContent.trim() === '[ ]:')", timeout=30_000)
    assert page.locator(".jp-Notebook .jp-OutputArea-output").count() == 0

    start = time.monotonic()
    palette(page, "Run All Cells")
    expected = [f"[{i}]:" for i in range(1, n_code + 1)]
    wait_for_run_all(page, lab, notebook, expected, artifacts)
    print(f"{notebook}: Run All took {time.monotonic() - start:.1f} s")
    return page


def explorer_cell(page, notebook: str, constructor: str):
    cell = page.locator(".jp-Notebook .jp-Cell").nth(cell_index(notebook, constructor))
    assert constructor in cell.locator(".jp-InputArea-editor").inner_text()
    cell.scroll_into_view_if_needed()
    return cell


def move_slider(cell, index: int, key: str = "ArrowRight") -> None:
    """Focus the ``index``-th slider handle of ``cell`` and press ``key``, as a learner can."""
    handle = cell.locator(".jp-OutputArea-output [role=slider]").nth(index)
    handle.focus()
    handle.press(key)


def wait_for_texts(page, locator, expected: list[str]) -> None:
    """Wait until the elements of ``locator`` read ``expected`` (widget views render late)."""
    deadline = time.monotonic() + WIDGET_TIMEOUT
    while (texts := [text.strip() for text in locator.all_inner_texts()]) != expected:
        if time.monotonic() > deadline:
            pytest.fail(f"expected {expected}, the page shows {texts} after {WIDGET_TIMEOUT} s")
        page.wait_for_timeout(200)


def png_of(cell) -> bytes:
    """The PNG the explorer's Output widget shows (its one <img>)."""
    images = cell.locator(".jp-OutputArea-output img")
    images.first.wait_for(timeout=WIDGET_TIMEOUT * 1000)
    assert images.count() == 1, f"expected one image in the explorer, found {images.count()}"
    src = images.first.get_attribute("src")
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix), src[:80]
    return base64.b64decode(src[len(prefix):])


def wait_for_new_image(page, cell, before: bytes) -> bytes:
    deadline = time.monotonic() + WIDGET_TIMEOUT
    while time.monotonic() < deadline:
        after = png_of(cell)
        if after != before:
            return after
        page.wait_for_timeout(200)
    pytest.fail(f"the explorer's picture did not change within {WIDGET_TIMEOUT} s of the "
                "slider moving")


def finish(page, lab: Lab, notebook: str, artifacts: Path) -> None:
    """No error anywhere on the page, the Log Console included, then close and shut down.

    An exception in a slider's callback shows in no cell: JupyterLab puts the traceback
    in the notebook's Log Console, which this opens and reads."""
    assert not error_outputs(page), f"{notebook}: error output after the slider moved"
    palette(page, "Show Log Console")
    page.locator(".jp-LogConsolePanel").wait_for(state="visible", timeout=10_000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts / f"{notebook}.png"))
    logged = [text for text in page.locator(
        ".jp-LogConsolePanel .jp-OutputArea-output").all_inner_texts() if is_error(text)]
    assert not logged, f"{notebook}: errors in the Log Console:\n" + "\n---\n".join(logged)
    assert not page.problems, f"{notebook}: JavaScript errors on the page: {page.problems}"
    page.close()
    lab.shut_down_kernels()


@pytest.fixture
def artifacts(tmp_path_factory):
    """Where the screenshots go (printed when a test fails)."""
    return tmp_path_factory.mktemp("screenshots")


def kl_closed_form(mu: float, sigma: float) -> float:
    """KL(N(mu, sigma^2) || N(0, 1)) in nats."""
    return -math.log(sigma) + (sigma**2 + mu**2) / 2 - 0.5


def test_kl_explorer_redraws_when_a_slider_moves(chromium, lab, artifacts):
    page = open_and_run_all(chromium, lab, KL_NOTEBOOK, artifacts)
    cell = explorer_cell(page, KL_NOTEBOOK, "KLExplorer(")
    readouts = cell.locator(".jp-OutputArea-output .widget-readout")
    label = cell.locator(".jp-OutputArea-output .widget-html-content")
    wait_for_texts(page, readouts, ["1.00", "0.50"])
    before_label, before_png = label.inner_text(), png_of(cell)
    assert f"KL(q ‖ p) = {kl_closed_form(1.0, 0.5):.4f} nats" in before_label

    move_slider(cell, 0)  # mu: 1.00 -> 1.05
    expected = f"KL(q ‖ p) = {kl_closed_form(1.05, 0.5):.4f} nats"
    page.wait_for_function("([el, text]) => el.textContent.includes(text)",
                           arg=[label.element_handle(), expected], timeout=WIDGET_TIMEOUT * 1000)
    wait_for_texts(page, readouts, ["1.05", "0.50"])
    assert label.inner_text() != before_label
    wait_for_new_image(page, cell, before_png)
    finish(page, lab, KL_NOTEBOOK, artifacts)


def drag_slider(page, cell, index: int, fraction: float) -> None:
    """Drag the ``index``-th slider handle of ``cell`` to ``fraction`` of its track."""
    slider = cell.locator(".jp-OutputArea-output .widget-slider").nth(index)
    handle = slider.locator("[role=slider]").bounding_box()
    track = slider.locator(".noUi-base").bounding_box()
    y = handle["y"] + handle["height"] / 2
    page.mouse.move(handle["x"] + handle["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(track["x"] + fraction * track["width"], y, steps=10)
    page.mouse.up()


def decoded_part(png: bytes) -> np.ndarray:
    """The explorer picture's decoded digit: below the title, left of the code map."""
    pixels = imread(io.BytesIO(png), format="png")
    height, width = pixels.shape[:2]
    return pixels[int(0.15 * height): int(0.9 * height), : int(0.4 * width)]


def test_latent_explorer_decodes_where_the_slider_points(chromium, lab, artifacts):
    page = open_and_run_all(chromium, lab, LATENT_NOTEBOOK, artifacts)
    cell = explorer_cell(page, LATENT_NOTEBOOK, "LatentExplorer(")
    readouts = cell.locator(".jp-OutputArea-output .widget-readout")
    # The notebook's last use of the explorer puts it back at the centre of the prior.
    wait_for_texts(page, readouts, ["0.00", "0.00"])
    before = png_of(cell)

    # Drag z1 to three quarters of its track, (-3, 3): about 1.5. The slider sends its value
    # when the drag ends (continuous_update=False), and the kernel decodes it.
    drag_slider(page, cell, 0, 0.75)
    page.wait_for_function("el => el.textContent.trim() !== '0.00'",
                           arg=readouts.first.element_handle(), timeout=WIDGET_TIMEOUT * 1000)
    after = wait_for_new_image(page, cell, before)
    z1, z2 = (float(text) for text in readouts.all_inner_texts())
    assert z1 == pytest.approx(1.5, abs=0.3) and z2 == 0.0, (z1, z2)
    (artifacts / "06-before.png").write_bytes(before)
    (artifacts / "06-after.png").write_bytes(after)
    change = np.abs(decoded_part(after) - decoded_part(before)).max()
    assert change > 0.1, "the decoded digit did not change (only the code map did)"
    finish(page, lab, LATENT_NOTEBOOK, artifacts)
