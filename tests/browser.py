"""What the browser tests share: where Chromium is, and what to do when it or Playwright is missing.

CI sets ``GLASSGRAD_BROWSER_TESTS=required`` (it installs both), so there a missing browser
fails the run; elsewhere the browser tests are skipped with the reason and the fix.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
REQUIRED = os.environ.get("GLASSGRAD_BROWSER_TESTS") == "required"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


def missing(reason: str) -> None:
    """Fail (in CI) or skip (elsewhere), naming what is missing and how to install it."""
    if REQUIRED:
        pytest.fail(f"{reason} (GLASSGRAD_BROWSER_TESTS=required)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_chromium() -> str:
    """The path of Debian's Chromium, or fail/skip."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        missing(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)")
    return CHROMIUM


def require_playwright():
    """Playwright's sync API (never a downloaded browser: launch it with ``executable_path=CHROMIUM``)."""
    require_chromium()
    try:
        from playwright import sync_api
    except ImportError:
        missing("browser tests need Playwright: pip install playwright")
    return sync_api


CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
"""Headless Chromium as root, with no attempt to reach the network (this machine has none)."""


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, launched headless by Playwright (never a downloaded browser)."""
    sync_api = require_playwright()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def playground(output_dir: Path, **options: Any) -> Iterator[tuple[str, Any]]:
    """The playground served from a thread on 127.0.0.1, as ``glassgrad serve`` serves it; yields (URL, app).
    ``options`` go to ``create_app`` (e.g. the Code view's time and memory limits)."""
    from glassgrad.playground import create_app
    from glassgrad.playground.server import listen, make_server

    listener = listen("127.0.0.1", 0)  # TCP_NODELAY on every connection, as in glassgrad serve
    app = create_app(output_dir=output_dir, **options)
    instance = make_server(app)
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not instance.started:
        assert time.monotonic() < deadline, "the playground server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", app
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


@contextmanager
def offline_page(browser: Any, viewport: dict, timeout_ms: int = 20_000,
                 ignore: Callable[[str], bool] = lambda text: False) -> Iterator[Any]:
    """A page that may reach only 127.0.0.1/localhost; on leaving, it fails the test if the page tried
    another host or logged an error (a page error, or a console error that ``ignore`` does not excuse)."""
    context = browser.new_context(viewport=viewport)
    blocked, errors = [], []

    def only_local(route: Any) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    tab = context.new_page()
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda message: errors.append(message.text)
           if message.type == "error" and not ignore(message.text) else None)
    tab.set_default_timeout(timeout_ms)
    yield tab
    context.close()
    assert blocked == [], f"the page tried to reach the network: {blocked}"
    assert errors == [], f"errors in the page's console: {errors}"


VIEWPORTS = {"wide": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
"""The two sizes every view is checked at: a laptop and a phone."""
READABLE_PX = 12.0


def assert_seen(locator, what: str) -> None:
    """What a person sees: shown, inside the viewport's width once scrolled to, and at a readable size."""
    locator.scroll_into_view_if_needed()
    assert locator.is_visible(), f"{what} is not visible"
    box = locator.bounding_box()
    width = locator.page.viewport_size["width"]
    assert box is not None and box["width"] > 0 and box["height"] > 0, f"{what} has no size on the page"
    assert box["x"] >= -0.5 and box["x"] + box["width"] <= width + 0.5, \
        f"{what} spans x = {box['x']:.0f}…{box['x'] + box['width']:.0f} px, outside the {width} px viewport"
    size = locator.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= READABLE_PX, f"{what} is written at {size} px, below the readable {READABLE_PX} px"


def assert_no_sideways_scroll(page, what: str) -> None:
    """The page is no wider than the viewport (a phone user never scrolls sideways to read it)."""
    wide = page.evaluate("document.documentElement.scrollWidth")
    width = page.viewport_size["width"]
    assert wide <= width, f"{what} is {wide} px wide at a {width} px viewport"
