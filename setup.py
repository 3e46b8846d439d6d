"""Packaging hook: build the playground's code editor when its bundle is missing.

Everything about the package is in pyproject.toml; this only adds one step before ``build_py``: when a
bundle listed in ``frontend/bundles.json`` is not in ``glassgrad/playground/static/build/`` (a fresh
clone) and npm is on PATH, run ``npm ci`` and ``npm run build`` in ``frontend/`` (CodeMirror from the
npm registry, bundled by esbuild). Without npm the install still succeeds, with a one-line warning, and
the Code view uses a plain text box.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FRONTEND = ROOT / "frontend"
BUILD_FOLDER = ROOT / "glassgrad" / "playground" / "static" / "build"
BUILD_COMMAND = "cd frontend && npm ci && npm run build"


def missing_bundles() -> list[str]:
    """The bundles of ``frontend/bundles.json`` (whose source is there) not built yet."""
    listed = FRONTEND / "bundles.json"
    if not listed.exists():
        return []
    return [bundle for source, bundle in json.loads(listed.read_text(encoding="utf-8")).items()
            if (ROOT / source).exists() and not (BUILD_FOLDER / bundle).exists()]


def build_editor() -> None:
    """Build the editor's bundles if one is missing and npm is there; otherwise say so in one line."""
    if not missing_bundles():
        return
    npm = shutil.which("npm")
    if npm is None:
        print(f"warning: npm not found, so the playground's Code view gets a plain text box "
              f"(install Node.js, then: {BUILD_COMMAND})", file=sys.stderr)
        return
    try:
        for command in ([npm, "ci", "--no-audit", "--no-fund"], [npm, "run", "build"]):
            subprocess.run(command, cwd=FRONTEND, check=True, stdout=sys.stderr)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"warning: building the playground's editor failed ({error}); the Code view gets a plain text box "
              f"until {BUILD_COMMAND} succeeds", file=sys.stderr)


class BuildWithEditor(build_py):
    """``build_py`` that first builds the editor bundle (before the package data is listed)."""

    def finalize_options(self) -> None:
        build_editor()
        super().finalize_options()


setup(cmdclass={"build_py": BuildWithEditor})
