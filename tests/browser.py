"""What the browser tests share: where Chromium is, and what to do when it or Playwright is missing.

CI sets ``GLASSGRAD_BROWSER_TESTS=required`` (it installs both), so there a missing browser
fails the run; elsewhere the browser tests are skipped with the reason and the fix.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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
