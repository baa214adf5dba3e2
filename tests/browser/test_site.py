"""The course website (site/, `make site`): built once per session, opened from disk in
headless Chromium with every request that is not a local file blocked and recorded.

Per page: no request left the machine, no console error, no failed load, maths typeset by
MathJax (no TeX left in the text), every image loaded, and on notebook pages the Binder and
Colab launch buttons and the Colab badge point at the notebook's repository path. A second
build of a small broken course checks that a broken link fails the build.

Needs the `site` extra (Sphinx, MyST-NB, sphinx-book-theme, sphinx-mathjax-offline,
playwright) and Debian's Chromium at /usr/bin/chromium (or $VAE_TUTORIAL_CHROMIUM); never
`playwright install`. Without a browser the test skips, except in CI ($CI set), where it
fails. SITE_SCREENSHOTS=<folder> saves a screenshot of each page there.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from vae_tutorial import links
from vae_tutorial.colab import problems as colab_problems

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def build_site(out: Path, root: Path = ROOT, work: Path | None = None):
    return subprocess.run(
        [sys.executable, str(ROOT / "site" / "build.py"), "--out", str(out), "--root", str(root),
         "--work", str(work or out.parent / "work")],
        capture_output=True, text=True, timeout=600, check=False)


def require_site_tools(unavailable) -> None:
    for module in ("sphinx", "myst_nb", "sphinx_book_theme"):
        try:
            __import__(module)
        except ImportError:
            unavailable(f"{module} is not installed: pip install -e '.[site]'")


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser_unavailable) -> Path:
    require_site_tools(browser_unavailable)
    out = tmp_path_factory.mktemp("site") / "html"
    start = time.perf_counter()
    result = build_site(out)
    assert result.returncode == 0, f"site build failed:\n{result.stdout}\n{result.stderr}"
    print(f"site build: {time.perf_counter() - start:.1f} s")
    return out


@pytest.fixture(scope="module")
def browser(chromium):
    return chromium  # the session's one headless Chromium (tests/browser/conftest.py)


def open_page(browser, path: Path):
    """Open ``path`` offline; return (page, problems) where problems collects every web
    request attempted, console error, uncaught exception and failed load."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems: list[str] = []

    def route(route):
        url = urlparse(route.request.url)
        if url.scheme in ("file", "data") or url.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            problems.append(f"request to the web: {route.request.url}")
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda r: problems.append(f"failed to load {r.url}: {r.failure}"))
    page.goto(path.as_uri(), wait_until="load")
    return page, problems


TEXT_OUTSIDE_CODE = """() => {
    const main = document.querySelector("main").cloneNode(true);
    main.querySelectorAll("pre, code, mjx-container, script, style").forEach(e => e.remove());
    return main.textContent;
}"""

IMAGES = "() => [...document.images].map(i => [i.getAttribute('src').slice(0, 80), i.naturalWidth])"


def check_page(page, problems: list[str], maths: bool) -> dict:
    """What every page must satisfy; returns counts for the caller's own checks."""
    assert problems == [], problems  # e.g. MathJax from a CDN: blocked, so fail at once
    has_maths = page.evaluate("() => document.querySelectorAll('.math').length")
    if maths:
        assert has_maths, "no maths on a page that has formulas"
    if has_maths:
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=10_000)
        page.evaluate("() => MathJax.startup.promise")
        typeset = page.evaluate("() => document.querySelectorAll('.math mjx-container').length")
        assert typeset == has_maths, f"MathJax typeset {typeset} of {has_maths} formulas"
        assert page.evaluate("() => document.querySelectorAll('mjx-merror').length") == 0, \
            "MathJax reported a TeX error"
    text = page.evaluate(TEXT_OUTSIDE_CODE)
    for raw in ("$$", "\\(", "\\[", "\\frac", "\\mathcal", "\\sigma", "\\mu"):
        at = text.find(raw)
        assert at < 0, f"raw TeX {raw!r} left in the page: ...{text[max(at - 80, 0):at + 80]}"
    images = page.evaluate(IMAGES)
    broken = [src for src, width in images if width == 0]
    assert not broken, f"images that did not load: {broken}"
    assert problems == [], problems
    return {"maths": has_maths, "images": len(images)}


def screenshot(page, name: str) -> None:
    folder = os.environ.get("SITE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def stored_images(name: str) -> int:
    """PNG outputs stored in a committed notebook, widget pictures included."""
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    count = sum("image/png" in output.get("data", {})
                for cell in nb.cells for output in cell.get("outputs", []))
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    for model in state.get("state", {}).values():
        if model["model_name"] == "ImageModel" and model.get("buffers"):
            count += 1
    return count


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_page(browser, site, name):
    page, problems = open_page(browser, site / "notebooks" / name.replace(".ipynb", ".html"))
    counts = check_page(page, problems, maths=True)
    # every stored figure is on the page (widget pictures too)
    assert counts["images"] >= stored_images(name) + 1  # + the Colab badge
    repo_path = f"notebooks/{name}"
    launch = page.evaluate(
        "() => [...document.querySelectorAll('.dropdown-launch-buttons a')].map(a => a.href)")
    assert sorted(launch) == sorted([links.binder_url(repo_path), links.colab_url(repo_path)])
    badge = page.locator(f"article a[href='{links.colab_url(repo_path)}'] img")
    assert badge.count() == 1 and badge.evaluate("i => i.naturalWidth") > 0
    # no widget state left for a widget manager to load, and no widget-manager error text
    assert page.locator("script[type='application/vnd.jupyter.widget-state+json']").count() == 0
    # the download button offers the notebook with its widget state, badge and set-up cell
    downloaded = nbformat.read(site / "_sources" / "notebooks" / name, as_version=4)
    committed = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    assert downloaded.metadata == committed.metadata
    assert colab_problems(downloaded, name) == []
    screenshot(page, name.removesuffix(".ipynb"))
    page.context.close()


def test_home_and_notation_pages(browser, site):
    page, problems = open_page(browser, site / "index.html")
    check_page(page, problems, maths=False)
    # the sidebar's table of contents lists every notebook, and each link opens its page
    toc = page.evaluate("() => [...document.querySelectorAll('nav.bd-docs-nav a')]"
                        ".map(a => a.getAttribute('href'))")
    assert [h for h in toc if re.fullmatch(r"notebooks/\d\d_\w+\.html", h)] == [
        f"notebooks/{n.replace('.ipynb', '.html')}" for n in NOTEBOOKS]
    assert "notebooks/NOTATION.html" in toc
    screenshot(page, "index")
    # follow a link from a notebook to the notation table, as a reader would
    page.goto((site / "notebooks" / NOTEBOOKS[0].replace(".ipynb", ".html")).as_uri())
    page.locator("main a[href='NOTATION.html']").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("notebooks/NOTATION.html")
    check_page(page, problems, maths=True)
    screenshot(page, "NOTATION")
    page.context.close()


def test_every_local_link_resolves(site):
    # Sphinx's -W catches broken cross-references; this catches raw HTML links too.
    from html.parser import HTMLParser

    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found = []

        def handle_starttag(self, tag, attrs):
            for key, value in attrs:
                if key in ("href", "src") and value and not urlparse(value).scheme \
                        and not value.startswith("#"):
                    self.found.append(value.split("#")[0].split("?")[0])

    missing = []
    for page in site.rglob("*.html"):
        if page.relative_to(site).parts[0] == "_static":
            continue  # the theme's template fragments, not pages
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        missing += [f"{page.relative_to(site)}: {target}" for target in parser.found
                    if target and not (page.parent / target).exists()]
    assert missing == []


def load_site_builder():
    spec = importlib.util.spec_from_file_location("site_build", ROOT / "site" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_widgets_become_pictures_of_their_saved_state():
    import ipywidgets
    from ipywidgets.embed import embed_data

    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD"
                           "hgGAWjR9awAAAABJRU5ErkJggg==")
    output = ipywidgets.Output()
    output.outputs = ({"output_type": "display_data", "metadata": {},
                       "data": {"image/png": base64.b64encode(png).decode(), "text/plain": "f"}},)
    box = ipywidgets.VBox([
        ipywidgets.FloatSlider(value=0.25, min=-1, max=1, description="μ"),
        ipywidgets.SelectionSlider(options=["a", "b", "c"], value="b", description="pick"),
        ipywidgets.HBox([ipywidgets.Dropdown(options=["x", "y"], value="y"),
                         ipywidgets.Checkbox(value=True, description="on"),
                         ipywidgets.Button(description="Go")]),
        ipywidgets.HTML("<b>KL = 0.8 nats</b>"), ipywidgets.IntRangeSlider(value=(2, 5)),
        ipywidgets.Image(value=png, width=28), output])
    data = embed_data(views=[box], drop_defaults=False)
    nb = nbformat.v4.new_notebook(metadata={"widgets": {
        "application/vnd.jupyter.widget-state+json": data["manager_state"]}})
    nb.cells.append(nbformat.v4.new_code_cell("box", outputs=[nbformat.v4.new_output(
        "execute_result", execution_count=1, data={
            "application/vnd.jupyter.widget-view+json": data["view_specs"][0],
            "text/plain": "VBox(...)"})]))
    builder = load_site_builder()
    assert builder.static_widgets(nb) == 1
    assert "widgets" not in nb.metadata  # no state left for a widget manager to load
    picture = nb.cells[0].outputs[0]["data"]
    assert set(picture) == {"text/html", "text/plain"}
    page = picture["text/html"]
    for expected in ('<label>μ</label><input type="range" disabled min="-1.0" max="1.0"',
                     'value="0.25"', ">0.25</span>", 'max="2" step="1" value="1"', ">b</span>",
                     "<span>y</span>", "disabled checked", "disabled>Go</button>",
                     "<b>KL = 0.8 nats</b>", "<span>2 - 5</span>", 'width="28"',
                     f"data:image/png;base64,{base64.b64encode(png).decode()}",
                     "flex-direction: row"):
        assert expected in page, expected
    assert page.count("data:image/png;base64,") == 2  # the Image and the Output's figure
    # a kind of widget it cannot picture stops the build with a clear message
    state = nb.metadata.setdefault("widgets", {}).setdefault(
        "application/vnd.jupyter.widget-state+json", {"state": {}})["state"]
    state["m1"] = {"model_name": "FancyModel", "state": {}}
    nb.cells[0].outputs[0]["data"] = {"application/vnd.jupyter.widget-view+json": {
        "model_id": "m1", "version_major": 2, "version_minor": 0}}
    with pytest.raises(ValueError, match="no static picture for a FancyModel widget"):
        builder.static_widgets(nb)


def small_course(root: Path, header_extra: str = "") -> None:
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "NOTATION.md", root / "notebooks")
    header = ("# 01 · Title\n\n**Teaching:** 5 min · **Exercises:** 0 min · **Prerequisites:** "
              f"none\n\nSee [notation](NOTATION.md){header_extra}.")
    nb = nbformat.v4.new_notebook(metadata={"language_info": {"name": "python"}},
                                  cells=[nbformat.v4.new_markdown_cell(header)])
    nbformat.write(nb, root / "notebooks" / "01_title.ipynb")


def test_staging_links_pages_and_repository_files(tmp_path):
    root = tmp_path / "course"
    small_course(root, ", [the front page](../README.md#teaching-it), [the Makefile](../Makefile)"
                       " and ![a badge](https://mybinder.org/badge_logo.svg)")
    (root / "Makefile").write_text("all:\n")
    (root / "GUIDE.md").write_text("# Guide\n\nBack to [the course](README.md).\n")
    (root / "README.md").write_text(
        "# A course\n\n| Notebook |\n|---|\n| `01_title` |\n\nRead [the guide](GUIDE.md) "
        "and [notation](notebooks/NOTATION.md).\n")
    pages = load_site_builder().stage(tmp_path / "src", root)
    assert pages == ["notebooks/01_title.ipynb", "notebooks/NOTATION.md", "GUIDE.md"]
    src = tmp_path / "src"
    header = "".join(json.loads((src / "notebooks" / "01_title.ipynb").read_text())
                     ["cells"][0]["source"])
    assert "[the front page](../index.md#teaching-it)" in header
    assert f"[the Makefile]({links.repository_url()}/blob/{links.BRANCH}/Makefile)" in header
    assert "![a badge](../badges/binder-badge.svg)" in header
    assert "badges/colab-badge.svg)](" + links.colab_url("notebooks/01_title.ipynb") in header
    index = (src / "index.md").read_text()
    assert "| [`01_title`](notebooks/01_title.ipynb) |" in index
    assert ":caption: Reference\n\nnotebooks/NOTATION\nGUIDE\n" in index
    assert (src / "GUIDE.md").read_text() == "# Guide\n\nBack to [the course](index.md).\n"


def test_broken_link_fails_the_build(tmp_path, browser_unavailable):
    require_site_tools(browser_unavailable)
    root = tmp_path / "course"
    small_course(root, " and [the next one](02_missing.ipynb)")
    (root / "README.md").write_text("# A course\n\nSee [notation](notebooks/NOTATION.md).\n")
    result = build_site(tmp_path / "html", root)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "01_title.ipynb" in output and "02_missing.ipynb" in output, output
