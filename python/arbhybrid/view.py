"""What the main job shows while it runs: a view gets the engine's snapshot about once a
second and every batch of engine events, and a final snapshot at the end.

``make_view`` picks the live dashboard on a terminal and plain log lines otherwise
(pipes, CI). A view never blocks the loop for long and never raises into it.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol

from arbhybrid.display import asset_amount, micros
from arbhybrid.types import EngineEvent, Snapshot


class View(Protocol):
    def start(self) -> None: ...
    def progress(self, step: str) -> None: ...
    def events(self, batch: list[EngineEvent]) -> None: ...
    def update(self, snapshot: Snapshot) -> None: ...
    def close(self, snapshot: Snapshot | None) -> None: ...


def status_line(snap: Snapshot, quote: str | None = None) -> str:
    """One line: opportunities, transactions, PnL (in ``quote``, at its precision),
    latency, venue health."""
    st = snap["stats"]
    ttt = st["tick_to_trade"]
    t2t = f"p50 {micros(ttt['p50_us'])} p99 {micros(ttt['p99_us'])}" if ttt["count"] else "—"
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
        f"{taken} | tx {outcomes} | PnL {asset_amount(st['pnl'], quote)} "
        f"fees {asset_amount(st['fees'], quote)} | t2t {t2t} | {venues}"
        + (f" | HALTED: {halted}" if halted else "")
    )


class PlainView:
    """Plain lines: start-up steps as they happen, a status line every ``every_s``."""

    def __init__(self, every_s: float = 5.0, out: Any = None, quote: str | None = None) -> None:
        self.every_s = every_s
        self.quote = quote
        self.out = out or sys.stdout
        self._last = float("-inf")

    def start(self) -> None:
        pass

    def progress(self, step: str) -> None:
        print(f"... {step}", file=self.out, flush=True)

    def events(self, batch: list[EngineEvent]) -> None:
        pass  # already logged by the run's event handler

    def update(self, snapshot: Snapshot) -> None:
        if snapshot["uptime_s"] - self._last >= self.every_s:
            self._last = snapshot["uptime_s"]
            print(status_line(snapshot, self.quote), file=self.out, flush=True)

    def close(self, snapshot: Snapshot | None) -> None:
        pass


def make_view(tty: bool | None = None, quote: str | None = None) -> View:
    """The live dashboard on a terminal, plain lines otherwise (amounts in ``quote``)."""
    if tty is None:
        tty = sys.stdout.isatty()
    if tty:
        try:
            from arbhybrid.dashboard import Dashboard
        except ImportError:
            return PlainView(every_s=1.0, quote=quote)
        return Dashboard()
    return PlainView(quote=quote)
