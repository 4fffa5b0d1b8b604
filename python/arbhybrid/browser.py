"""Headless Chromium (Debian's ``chromium`` package) for pictures of our HTML and SVG:
the report's screenshot and the dashboard's, and the check that the report renders.

Chromium is optional: :func:`chromium` returns None when it is not installed
(``scripts/setup`` installs it when ``ARB_SETUP_BROWSER=1`` or ``CI`` is set).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from arbhybrid.errors import BrowserError as BrowserError  # its old home
from arbhybrid.errors import InvalidValueError

_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
#: Lines Chromium prints about the page itself (not about D-Bus, GPU or sandbox noise).
_PAGE_ERROR = re.compile(r"Uncaught|Failed to load resource|net::ERR_", re.IGNORECASE)


def chromium() -> str | None:
    """The Chromium executable, or None if none is installed (``ARB_CHROMIUM`` wins)."""
    if exe := os.environ.get("ARB_CHROMIUM"):
        return exe
    for name in _NAMES:
        if path := shutil.which(name):
            return path
    return None


@dataclass(frozen=True)
class PageResult:
    """What Chromium printed for one page: the DOM after load (``dump_dom``) or nothing
    (``screenshot``), and the page errors it logged."""

    dom: str
    page_errors: list[str]


def _run(args: list[str], timeout_s: float) -> tuple[str, str]:
    exe = chromium()
    if exe is None:
        raise BrowserError("chromium is not installed (apt-get install chromium)")
    # A throwaway profile: no state shared between runs or with a user's browser.
    with tempfile.TemporaryDirectory(prefix="arb-chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",  # containers run as root, where the sandbox cannot start
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={profile}",
            # Let timers and load handlers run before the DOM or pixels are taken.
            "--virtual-time-budget=5000",
            *args,
        ]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as e:
            raise BrowserError(f"chromium did not finish within {timeout_s:.0f} s") from e
    if p.returncode != 0:
        raise BrowserError(f"chromium exited with {p.returncode}: {p.stderr.strip()[-2000:]}")
    return p.stdout, p.stderr


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line and _PAGE_ERROR.search(line)]


def dump_dom(url: str, timeout_s: float = 60.0) -> PageResult:
    """Loads ``url`` and returns the DOM after its load handlers ran."""
    out, err = _run(["--dump-dom", url], timeout_s)
    return PageResult(out, _errors(err))


def screenshot(
    url: str, out: str | Path, width: int = 1280, height: int = 2000, timeout_s: float = 60.0
) -> PageResult:
    """Saves a PNG of ``url`` rendered in a ``width`` x ``height`` window; raises
    ``BrowserError`` if Chromium fails or writes no picture."""
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    _, err = _run([f"--window-size={width},{height}", f"--screenshot={out}", url], timeout_s)
    if not out.is_file() or out.stat().st_size == 0:
        raise BrowserError(f"chromium wrote no screenshot to {out}: {err.strip()[-2000:]}")
    return PageResult("", _errors(err))


def svg_size(svg: str | Path) -> tuple[int, int]:
    """The width and height (pixels, rounded up) of an SVG file's ``viewBox``."""
    text = Path(svg).read_text(encoding="utf-8")[:4000]
    m = re.search(r'viewBox="\s*[-\d.]+\s+[-\d.]+\s+([\d.]+)\s+([\d.]+)\s*"', text)
    if not m:
        raise InvalidValueError(f"{svg}: no viewBox")
    return int(float(m.group(1)) + 0.999), int(float(m.group(2)) + 0.999)


def svg_to_png(svg: str | Path, out: str | Path) -> PageResult:
    """Renders an SVG file (e.g. rich's ``save_svg``) to a PNG of its own size."""
    w, h = svg_size(svg)
    return screenshot(Path(svg).resolve().as_uri(), out, width=w, height=h)
