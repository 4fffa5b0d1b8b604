"""What the main job shows while it runs: a view gets the engine's snapshot about once a
second and every batch of engine events, and a final snapshot at the end.

``make_view`` picks the live dashboard on a terminal and plain log lines otherwise
(pipes, CI). A view never blocks the loop for long and never raises into it.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol


class View(Protocol):
    def start(self) -> None: ...
    def progress(self, step: str) -> None: ...
    def events(self, batch: list[dict[str, Any]]) -> None: ...
    def update(self, snapshot: dict[str, Any]) -> None: ...
    def close(self, snapshot: dict[str, Any] | None) -> None: ...


def status_line(snap: dict[str, Any]) -> str:
    """One line: opportunities, transactions, PnL, latency, venue health."""
    st = snap["stats"]
    ttt = st["tick_to_trade"]
    outcomes = " ".join(f"{k}={v}" for k, v in sorted(st["outcomes"].items())) or "-"
    venues = " ".join(
        f"{v}:{'ok' if d['healthy'] else 'DOWN'}" for v, d in sorted(snap["venues"].items())
    )
    halted = snap["risk"]["halted"]
    taken = (
        "detected, not sent: dry run"
        if snap.get("dry_run")
        else f"taken {st['opportunities_taken']}"
    )
    return (
        f"[{snap['uptime_s']:6.1f}s] opportunities {st['opportunities_detected']} "
        f"{taken} | tx {outcomes} | PnL {st['pnl']} fees {st['fees']} | "
        f"t2t p50 {_us(ttt['p50_us'])} p99 {_us(ttt['p99_us'])} | {venues}"
        + (f" | HALTED: {halted}" if halted else "")
    )


def _us(v: int | None) -> str:
    return "-" if v is None else f"{v}us"


class PlainView:
    """Plain lines: start-up steps as they happen, a status line every ``every_s``."""

    def __init__(self, every_s: float = 5.0, out: Any = None) -> None:
        self.every_s = every_s
        self.out = out or sys.stdout
        self._last = float("-inf")

    def start(self) -> None:
        pass

    def progress(self, step: str) -> None:
        print(f"... {step}", file=self.out, flush=True)

    def events(self, batch: list[dict[str, Any]]) -> None:
        pass  # already logged by the run's event handler

    def update(self, snapshot: dict[str, Any]) -> None:
        if snapshot["uptime_s"] - self._last >= self.every_s:
            self._last = snapshot["uptime_s"]
            print(status_line(snapshot), file=self.out, flush=True)

    def close(self, snapshot: dict[str, Any] | None) -> None:
        pass


def make_view(tty: bool | None = None) -> View:
    """The live dashboard on a terminal, plain lines otherwise."""
    if tty is None:
        tty = sys.stdout.isatty()
    if tty:
        try:
            from arbhybrid.dashboard import Dashboard
        except ImportError:
            return PlainView(every_s=1.0)
        return Dashboard()
    return PlainView()


# --- reading a snapshot (the status endpoint's ``snapshot``) ------------------------------
# Missing parts count as empty: an engine that has not yet connected a venue, or an older
# engine without a counter, reads as zero.


def books(snap: dict[str, Any], venue: str) -> dict[str, dict[str, Any]]:
    """``venue``'s book of every symbol: symbol -> its health (``valid``, ``gaps``...)."""
    return {s: d["venues"][venue] for s, d in snap.get("symbols", {}).items()}


def all_valid(snap: dict[str, Any] | None, venue: str, symbol: str | None = None) -> bool:
    """Every book of ``venue`` (or its book of ``symbol``) is valid; False without a
    snapshot or a book."""
    if snap is None:
        return False
    b = books(snap, venue)
    if symbol is not None:
        return bool(b.get(symbol, {}).get("valid"))
    return bool(b) and all(x.get("valid") for x in b.values())


def book_sum(snap: dict[str, Any], venue: str, key: str, symbol: str | None = None) -> int:
    """A book counter (``gaps``, ``resyncs``, ``updates``) summed over ``venue``'s books
    (or of ``symbol``'s alone)."""
    return sum(int(x.get(key) or 0) for s, x in books(snap, venue).items() if symbol in (None, s))


def feed(snap: dict[str, Any], venue: str, key: str) -> int:
    """A counter of ``venue``'s order-book feed (``connects``, ``disconnects``...)."""
    f = snap.get("venues", {}).get(venue, {}).get("feed") or {}
    return int(f.get(key) or 0)


def errors(snap: dict[str, Any], *classes: str) -> int:
    """Errors of these classes, summed."""
    e = snap.get("stats", {}).get("errors", {})
    return sum(int(e.get(c, 0)) for c in classes)


def private_stream(snap: dict[str, Any], venue: str) -> dict[str, Any] | None:
    """``venue``'s private-stream counters; None for an engine without them."""
    ps: dict[str, Any] | None = snap.get("venues", {}).get(venue, {}).get("private_stream")
    return ps


def open_arbitrages(snap: dict[str, Any] | None) -> int:
    """Arbitrages in flight; without a snapshot, one (nothing is known to be closed)."""
    if snap is None:
        return 1
    return int(snap.get("risk", {}).get("open_arbitrages") or 0)
