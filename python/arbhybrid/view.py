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


def rest(snap: dict[str, Any], venue: str, *keys: str) -> int:
    """``venue``'s REST outcome counters (``rate_limited``, ``server_errors``,
    ``retries``, ``unknown_resolved``, ``unknown_unresolved``), summed; 0 for an engine
    without them."""
    r = snap.get("venues", {}).get(venue, {}).get("rest") or {}
    return sum(int(r.get(k) or 0) for k in keys)


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
