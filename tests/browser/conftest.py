"""Real-browser tests: headless Chromium (Debian's package) driven by Playwright.

Every test in this folder is marked ``browser``. They run last in a session (after nbval
has filled the model cache), and `make test-lowest` leaves them out (``-m "not browser"``):
the lowest-versions run tests the package's version ranges, not the browser set-up.

The ``chromium`` fixture launches the system browser, never one that Playwright downloads
(``playwright install`` is not needed): ``/usr/bin/chromium``, or the path in the
``VAE_TUTORIAL_CHROMIUM`` environment variable. When Playwright or the browser is missing,
or the browser does not start, the tests SKIP on a developer's machine, saying what to
install, and FAIL in CI (environment variable ``CI`` set to true, as CI sets it, or
``VAE_TUTORIAL_REQUIRE_BROWSER=1``, as ``.ci/run`` sets it): CI must never pass with the
browser tests silently skipped.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CHROMIUM_ENV = "VAE_TUTORIAL_CHROMIUM"
REQUIRE_ENV = "VAE_TUTORIAL_REQUIRE_BROWSER"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# No GPU, no sandbox (CI runs as root), and nothing that phones home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
INSTALL_HINT = ("install Debian's Chromium (apt-get install chromium) and the test extra "
                "(pip install -e '.[test,site,browser]'), or point VAE_TUTORIAL_CHROMIUM at a "
                "Chromium binary")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def browser_required() -> bool:
    """True in CI: a browser test that cannot start must fail there, not skip."""
    return _truthy(os.environ.get(REQUIRE_ENV)) or _truthy(os.environ.get("CI"))


def browser_unavailable(reason: str):
    """Skip (a developer's machine) or fail (CI) with ``reason`` and how to fix it."""
    message = f"real-browser test cannot run: {reason}; {INSTALL_HINT}"
    if browser_required():
        pytest.fail(f"{message} (a skip is not allowed here: CI or {REQUIRE_ENV}=1)",
                    pytrace=False)
    pytest.skip(message)


def chromium_path() -> str:
    """The Chromium binary the tests drive: ``$VAE_TUTORIAL_CHROMIUM`` or /usr/bin/chromium."""
    path = os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM
    if not (Path(path).is_file() or shutil.which(path)):
        browser_unavailable(f"no Chromium at {path}")
    return path


def launch_chromium(playwright):
    """Launch headless system Chromium with ``playwright`` (a started sync_playwright())."""
    path = chromium_path()
    try:
        return playwright.chromium.launch(executable_path=path, headless=True,
                                          args=CHROMIUM_ARGS)
    except Exception as exc:  # Playwright raises its own Error subclasses
        browser_unavailable(f"Chromium at {path} did not start ({exc})")


@pytest.fixture(name="browser_unavailable", scope="session")
def browser_unavailable_fixture():
    """:func:`browser_unavailable` for tests in this folder (skip here, fail in CI)."""
    return browser_unavailable


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium (a Playwright ``Browser``) for the whole session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        browser_unavailable(f"Playwright is not installed ({exc})")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.hookimpl(tryfirst=True)  # before `-m "not browser"` deselects by marker
def pytest_collection_modifyitems(config, items):
    """Mark this folder's tests ``browser`` and run them after everything else."""
    mine, others = [], []
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            mine.append(item)
        else:
            others.append(item)
    items[:] = others + mine
