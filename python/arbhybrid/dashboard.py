"""The live terminal dashboard of the main job (rich ``Live``).

What an operator watches, refreshed a few times a second: per symbol both venues' best
bid and ask, the cross-venue edge in bps both ways and each book's health; venue health
(connected, circuit breaker, clock offset, connection reuse, staleness, rate-limit
headroom when the engine reports it); opportunities and transactions as they happen;
PnL, fees and inventory per venue; tick-to-trade and per-leg latency percentiles;
alerts and the latest log lines; and, before the first snapshot, the start-up steps.

Logs: the telemetry writer prints to stderr from a Rust thread, which would tear a live
display apart. While the dashboard runs it points file descriptor 2 at a pipe and shows
the lines in its log panel (everything also goes to the log file); on close it restores
stderr and repeats the warnings and errors it caught, so none is lost from the terminal.

``ARB_DASHBOARD_SVG=PATH`` keeps the latest live frame in an SVG file, rewritten on
every snapshot while trading (``scripts/screenshots`` uses it for the README).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from arbhybrid.display import amount, micros
from arbhybrid.types import EngineEvent, Snapshot
from arbhybrid.venues import VENUES

#: How the dashboard reads a snapshot or an event: by key with defaults, because it also
#: draws what ``status`` fetched from a running engine (possibly another version's) and
#: journal rows shaped like events (with their time, ``at_s``); the typed shapes are
#: ``Snapshot`` and ``EngineEvent``.
Loose = Mapping[str, Any]

VENUE_LABEL = {"mexc": "MEXC", "gateio": "Gate"}


def label(venue: str) -> str:
    """A venue's column label (``MEXC``, ``Gate``; another instance by its name)."""
    return VENUE_LABEL.get(venue, venue)


def venue_names(snap: Loose | None) -> list[str]:
    """The venues a snapshot reports, the default pair first (in its order), then any
    other instance by name; the default pair before the first snapshot."""
    names = list((snap or {}).get("venues") or {})
    ordered = [v for v in VENUES if v in names] + sorted(n for n in names if n not in VENUES)
    return ordered or list(VENUES)


def directions(venues: Sequence[str]) -> list[tuple[str, str, str]]:
    """Every route as the snapshot keys its edge (``buy_mexc_sell_gateio``), with its
    buy and sell venue."""
    return [(f"buy_{b}_sell_{s}", b, s) for b in venues for s in venues if b != s]


#: Routine log lines (``<time> INFO target: ...``); every other line that reached stderr
#: (warnings, errors, tracebacks, panics) is repeated on the real stderr at close.
_ROUTINE = re.compile(r"^\S+\s+(INFO|DEBUG|TRACE)\s")
#: Below this many columns panels stack and book cells shorten (an 80x24 terminal works).
NARROW = 120
#: Events redraw the dashboard at most this often (snapshots redraw it anyway).
EVENT_REFRESH_S = 0.25
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# The log line's ISO date and sub-millisecond digits: the panel has room for the time only.
_LOG_TIME = re.compile(r"^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d\.\d{3})\d*Z")


def _signed_style(text: str | None) -> str:
    try:
        v = Decimal(text) if text is not None else Decimal(0)
    except InvalidOperation:
        return ""
    return "green" if v > 0 else "red" if v < 0 else ""


class StderrCapture:
    """Points file descriptor 2 at a pipe and hands each line to ``sink`` (from a reader
    thread) until ``stop()``, which restores the original stderr."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        self._sink = sink
        self._saved: int | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        r, w = os.pipe()
        self._saved = os.dup(2)
        os.dup2(w, 2)
        os.close(w)  # fd 2 is now the only write end: restoring it ends the reader
        self._thread = threading.Thread(
            target=self._read, args=(r,), name="dashboard-stderr", daemon=True
        )
        self._thread.start()

    def _read(self, fd: int) -> None:
        pending = b""
        with os.fdopen(fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    self._deliver(line)
        if pending:
            self._deliver(pending)

    def _deliver(self, line: bytes) -> None:
        # The reader must keep draining: a full pipe would block the log writer thread.
        with contextlib.suppress(Exception):
            self._sink(line.decode("utf-8", "replace"))

    def stop(self) -> None:
        if self._saved is None:
            return
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._saved = None
        if self._thread is not None:
            self._thread.join(timeout=2.0)


class Dashboard:
    """The live dashboard; implements :class:`arbhybrid.view.View`.

    ``console``: where to draw (default: the terminal). ``capture_stderr``: show stderr
    lines in the log panel instead of letting them tear the display (default: when
    stderr is a terminal; redirected stderr is left alone). ``alerts``:
    subscribe to telemetry alerts on ``start()`` (needs a running asyncio loop).
    ``stale_ms``: a book older than this is shown as stale. ``refresh_per_second``: the
    start-up spinner's rate (afterwards snapshots and events trigger the redraws).
    """

    def __init__(
        self,
        console: Console | None = None,
        *,
        capture_stderr: bool | None = None,
        alerts: bool = True,
        stale_ms: int = 1000,
        activity_rows: int = 10,
        log_rows: int = 6,
        refresh_per_second: float = 4.0,
        svg_path: str | None = None,
    ) -> None:
        self.console = console or Console()
        self.stale_ms = stale_ms
        self.svg_path = svg_path if svg_path is not None else os.environ.get("ARB_DASHBOARD_SVG")
        self._lock = threading.Lock()
        self._snap: Loose | None = None
        #: The venues shown, from the latest snapshot (see ``venue_names``).
        self._vs: list[str] = list(VENUES)
        self._steps: list[tuple[str, float, float | None]] = []  # (step, started, finished)
        self._activity: deque[tuple[float, str, Text]] = deque(maxlen=activity_rows)
        self._firing: dict[tuple[str, str], dict[str, Any]] = {}
        self._alert_log: deque[tuple[float, dict[str, Any]]] = deque(maxlen=4)
        self._log: deque[str] = deque(maxlen=log_rows)
        self._loud: deque[str] = deque(maxlen=200)
        self._halts: list[str] = []
        self._tx_count = 0
        self._closed = False
        self._want_alerts = alerts
        self._alert_sub: Any = None
        if capture_stderr is None:  # only a terminal: stderr sent to a file stays there
            capture_stderr = os.isatty(2)
        self._capture = StderrCapture(self._on_stderr) if capture_stderr else None
        self._prev_excepthook: Callable[..., Any] | None = None
        self.refresh_per_second = refresh_per_second
        self._last_refresh = 0.0
        # Drawn when something changed (a snapshot about once a second, events at most
        # every EVENT_REFRESH_S), not on a timer: a frame costs ~20 ms of interpreter
        # time (BENCHMARKS.md), which the asyncio loop and veto callbacks also need.
        # Only the start-up spinner animates on a timer, until the first snapshot.
        self._live = Live(
            get_renderable=self.render,
            console=self.console,
            auto_refresh=False,
            transient=False,
            redirect_stdout=True,
            redirect_stderr=False,  # fd 2 is captured below, Python writes included
        )

    # -- View protocol -------------------------------------------------------------

    def start(self) -> None:
        if self._capture is not None:
            self._capture.start()
        if self._want_alerts:
            try:
                from arbhybrid import telemetry

                self._alert_sub = telemetry.on_alert(self.alert)
            except Exception as e:  # no loop or no telemetry: the dashboard still runs
                self._on_stderr(f"alerts unavailable: {e}")
        # If the job dies without close(), give the terminal back before the traceback is
        # printed (excepthook) or at exit, so nothing is lost in the pipe.
        self._prev_excepthook = sys.excepthook

        prev = self._prev_excepthook

        def excepthook(*exc: Any) -> None:
            self.close(None)
            prev(*exc)

        sys.excepthook = excepthook
        atexit.register(self.close, None)
        self._live.start(refresh=True)
        threading.Thread(
            target=self._animate_startup, name="dashboard-startup", daemon=True
        ).start()

    def _animate_startup(self) -> None:
        while self._snap is None and not self._closed:
            time.sleep(1 / self.refresh_per_second)
            if self._snap is None and not self._closed:
                self._refresh()

    def _refresh(self, min_gap_s: float = 0.0) -> None:
        now = time.monotonic()
        if not self._live.is_started or self._closed or now - self._last_refresh < min_gap_s:
            return
        self._last_refresh = now
        with contextlib.suppress(Exception):  # a view never raises into the loop
            self._live.refresh()

    def progress(self, step: str) -> None:
        now = time.monotonic()
        with self._lock:
            if self._steps and self._steps[-1][2] is None:
                s, t0, _ = self._steps[-1]
                self._steps[-1] = (s, t0, now)
            self._steps.append((step, now, None))
        self._refresh()  # every step is drawn at least once, however short

    def events(self, batch: Sequence[EngineEvent] | Sequence[Loose]) -> None:
        now = time.time()
        with self._lock:
            for item in batch:
                ev: Loose = item
                at = float(ev.get("at_s", now))  # when it happened, if the event says
                kind = ev.get("type")
                if kind == "opportunity":
                    self._activity.append((at, "opportunity", self._opportunity_text(ev)))
                elif kind == "transaction":
                    self._tx_count += 1
                    self._activity.append((at, "transaction", self._transaction_text(ev)))
                elif kind == "halted":
                    self._halts.append(str(ev.get("reason")))
                    self._activity.append(
                        (at, "halted", Text(f"TRADING HALTED: {ev.get('reason')}", "bold red"))
                    )
        self._refresh(EVENT_REFRESH_S)

    def update(self, snapshot: Snapshot | Loose) -> None:
        with self._lock:
            # After shutdown the feeds are stopped: keep showing the last books seen.
            with contextlib.suppress(Exception):  # a malformed snapshot is drawn as an error
                if (
                    self._snap is not None
                    and _books_empty(snapshot)
                    and not _books_empty(self._snap)
                ):
                    snapshot = {**snapshot, "symbols": self._snap["symbols"]}
                    snapshot["books_as_of_stop"] = True
            self._snap = snapshot
            if self._steps and self._steps[-1][2] is None:
                s, t0, _ = self._steps[-1]
                self._steps[-1] = (s, t0, time.monotonic())
        self._refresh()
        if self.svg_path and not self._closed:
            try:
                self.save_svg(self.svg_path)  # the latest live frame, for screenshots
            except OSError as e:
                self._on_stderr(f"ARB_DASHBOARD_SVG: cannot write {self.svg_path}: {e}")
                self.svg_path = None

    def close(self, snapshot: Snapshot | Loose | None) -> None:
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        if self._prev_excepthook is not None:
            sys.excepthook = self._prev_excepthook
        if snapshot is not None:
            self.update(snapshot)  # also marks the last step (stopping) done
        with contextlib.suppress(Exception):
            self._live.stop()  # leaves the final frame on the terminal
        if self._alert_sub is not None:
            with contextlib.suppress(Exception):
                self._alert_sub.close()
        if self._capture is not None:
            self._capture.stop()
            if self._loud:
                print("warnings and errors while the dashboard ran:", file=sys.stderr)
                for line in self._loud:
                    print(line, file=sys.stderr)

    # -- other inputs ----------------------------------------------------------------

    def alert(self, alert: dict[str, Any]) -> None:
        """An alert change from telemetry (``firing`` False clears it)."""
        labels = ",".join(f"{k}={v}" for k, v in sorted((alert.get("labels") or {}).items()))
        key = (str(alert.get("name")), labels)
        with self._lock:
            if alert.get("firing"):
                self._firing[key] = alert
            else:
                self._firing.pop(key, None)
            self._alert_log.append((time.time(), alert))

    def _on_stderr(self, line: str) -> None:
        line = line.rstrip("\r")
        if not line.strip():
            return
        with self._lock:
            self._log.append(line)
            if not _ROUTINE.match(_ANSI.sub("", line)):
                self._loud.append(line)

    def save_svg(self, path: str, title: str = "arbhybrid") -> None:
        """Writes the current frame as an SVG (rich's terminal look)."""
        rec = Console(record=True, width=self.console.width, file=open(os.devnull, "w"))  # noqa: SIM115
        try:
            rec.print(self.render())
            rec.save_svg(path, title=title)
        finally:
            rec.file.close()

    # -- rendering -----------------------------------------------------------------

    def render(self) -> RenderableType:
        """The whole frame for the current state (also used by ``status``). A snapshot it
        cannot read is shown as an error line, never raised into the refresh thread."""
        try:
            return self._render()
        except Exception as e:
            return Text(f"dashboard cannot draw this snapshot: {type(e).__name__}: {e}", "red")

    def _render(self) -> RenderableType:
        with self._lock:
            snap = self._snap
            self._vs = venue_names(snap)
            parts: list[RenderableType] = [self._header(snap)]
            if snap is None:
                parts.append(self._startup())
            if snap is not None:
                parts.append(self._markets(snap))
                parts.append(self._venues(snap))
                parts.append(self._side_by_side(self._trading(snap), self._latency(snap)))
                parts.append(self._side_by_side(self._inventory(snap), self._alerts_panel()))
            else:
                parts.append(self._alerts_panel())
            parts.append(self._activity_panel())
            return Group(*parts)

    def _header(self, snap: Loose | None) -> RenderableType:
        t = Text()
        t.append(" arbhybrid ", "bold white on blue")
        if snap is None:
            t.append("  starting…", "yellow")
            if self._firing:
                t.append(f"  ALERTS {len(self._firing)}", "bold white on red")
            return t
        t.append(f"  up {snap.get('uptime_s', 0):.0f}s", "bold")
        if self._steps and self._steps[-1][2] is None:
            t.append(f"  {self._steps[-1][0]}…", "yellow")
        halted = (snap.get("risk") or {}).get("halted")
        if self._closed:
            t.append("  stopped", "bold")  # shutdown halts the engine: not an alarm
        elif halted:
            t.append(f"  HALTED: {halted}", "bold white on red")
        elif snap.get("dry_run"):
            t.append("  dry run: detecting, not sending", "bold yellow")
        else:
            t.append("  trading", "bold green")
        st = snap.get("stats") or {}
        t.append(f"  PnL {amount(st.get('pnl'))}", _signed_style(st.get("pnl")) or "bold")
        t.append(f"  fees {amount(st.get('fees'))}")
        t.append(f"  transactions {sum((st.get('outcomes') or {}).values())}")
        if self._firing:
            t.append(f"  ALERTS {len(self._firing)}", "bold white on red")
        startup = snap.get("startup_ms") or {}
        if "venues_ms" in startup:
            t.append(
                f"  start-up: venues {startup.get('venues_ms')} ms, "
                f"engine {startup.get('engine_ms')} ms",
                "dim",
            )
        return t

    def _startup(self) -> RenderableType:
        grid = Table.grid(padding=(0, 1))
        now = time.monotonic()
        for step, t0, t1 in self._steps:
            if t1 is None:
                grid.add_row(
                    Spinner("dots", style="yellow"), Text(step), Text(f"{now - t0:.1f}s", "dim")
                )
            else:
                grid.add_row(Text("✓", "green"), Text(step, "dim"), Text(f"{t1 - t0:.1f}s", "dim"))
        return Panel(grid, title="start-up", border_style="yellow", expand=False)

    def _book_cell(self, v: Loose) -> Text:
        state = v.get("state") or "none"
        age = v.get("age_ms")
        if not v.get("valid"):
            style = "bold red" if state in ("invalid", "stale", "none") else "yellow"
            t = Text(state, style)
        elif age is not None and age > self.stale_ms:
            t = Text(f"stale {age} ms", "bold red")
        else:
            t = Text(f"{state} {age if age is not None else '-'} ms", "green")
        extra = []
        if v.get("resyncs"):
            extra.append(f"resyncs {v['resyncs']}")
        if v.get("gaps"):
            extra.append(f"gaps {v['gaps']}")
        if extra:
            t.append(" " + " ".join(extra), "yellow")
        return t

    def _table(self, title: str, expand: bool = False) -> Table:
        """A titled table; on a small terminal without the blank column dividers of
        SIMPLE_HEAD (seven columns of them do not fit on 80)."""
        wide = self.console.width >= NARROW
        return Table(
            box=box.SIMPLE_HEAD if wide else None,
            header_style="bold" if wide else "bold underline",
            expand=expand and wide,
            pad_edge=wide,
            title=title,
            title_justify="left",
            title_style="bold",
        )

    def _books_compact(self, venues: Loose) -> Text:
        """Both books in a few characters: ``ok 28ms`` (the older one's age) when both are
        in sync, else the venue(s) with a problem, e.g. ``G resyncing``."""
        problems = Text()
        ages = []
        for v in self._vs:
            d = venues.get(v) or {}
            cell = self._book_cell(d)
            if d.get("valid") and not cell.plain.startswith("stale"):
                ages.append(d.get("age_ms") or 0)
            else:
                problems.append(f"{label(v)[0]} ", "bold")
                problems.append_text(cell)
                problems.append(" ")
        if problems.plain:
            return problems
        return Text(f"ok {max(ages, default=0)}ms", "green")

    def _markets(self, snap: Loose) -> RenderableType:
        rows = []
        for symbol, s in sorted((snap.get("symbols") or {}).items()):
            venues = s.get("venues") or {}
            prices = []
            for v in self._vs:
                d = venues.get(v) or {}
                dim = "" if d.get("valid") else "dim"
                prices += [Text(d.get("bid") or "-", dim), Text(d.get("ask") or "-", dim)]
            edges = []
            for key, _, _ in directions(self._vs):
                e = (s.get("edge_bps") or {}).get(key)
                edges.append(Text(e if e is not None else "-", _signed_style(e)))
            if self.console.width < NARROW:  # one column for both books
                books = [self._books_compact(venues)]
            else:
                books = [self._book_cell(venues.get(v) or {}) for v in self._vs]
            name = Text(symbol)
            if s.get("busy"):
                name.append(" ⇄", "bold yellow")
            if s.get("paused"):
                name.append(" paused", "yellow")
            rows.append([name, *prices, *edges, *books])
        title = "Markets (last seen before stop)" if snap.get("books_as_of_stop") else "Markets"
        table = self._table(title, expand=True)
        narrow = self.console.width < 150  # short edge headers
        headers = ["symbol"]
        for v in self._vs:
            headers += [f"{label(v)} bid", f"{label(v)} ask"]
        for _, b, s in directions(self._vs):
            title = f"buy {label(b)}→sell {label(s)}"
            if narrow:  # "M→G": buy MEXC, sell Gate
                arrow = f"{label(b)[0].upper()}→{label(s)[0].upper()}"
                title = arrow if self.console.width < NARROW else f"edge {arrow}"
            headers.append(f"{title} bps")
        for i, header in enumerate(headers):
            # A symbol, a price or an edge is never cut short: the book cells wrap instead.
            widest = max((row[i].cell_len for row in rows), default=1)
            table.add_column(
                header,
                style="bold" if i == 0 else "",
                justify="left" if i == 0 else "right",
                min_width=widest,
            )
        if self.console.width < NARROW:
            table.add_column("books", min_width=9)  # "ok 1234ms" without a break
        else:
            for v in self._vs:
                table.add_column(f"{label(v)} book")
        for row in rows:
            table.add_row(*row)
        return table

    def _venues(self, snap: Loose) -> RenderableType:
        table = self._table("Venues", expand=True)
        table.add_column("venue", style="bold")
        table.add_column("connected")
        table.add_column("breaker")
        table.add_column("oldest book", justify="right")
        table.add_column("clock", justify="right")
        table.add_column("requests", justify="right")
        table.add_column("reuse", justify="right")
        table.add_column("feed frames", justify="right")
        venues = snap.get("venues") or {}
        # Rate limits, when the engine reports them per venue: "rate_limit_headroom" (free
        # request slots in the tightest window) and/or "rate_limit" {"headroom", "waits",
        # "venue_blocks"} (requests our limiter delayed; times the venue said stop).
        limits = any(
            {"rate_limit_headroom", "rate_limit"} & set(venues.get(v) or {}) for v in self._vs
        )
        if limits:
            table.add_column("rate limit")
        ages: dict[str, list[int]] = {v: [] for v in self._vs}
        for s in (snap.get("symbols") or {}).values():
            for v in self._vs:
                age = ((s.get("venues") or {}).get(v) or {}).get("age_ms")
                if age is not None:
                    ages[v].append(age)
        for v in self._vs:
            d = (snap.get("venues") or {}).get(v)
            if d is None:
                continue
            feed = d.get("feed") or {}
            conn = Text("yes", "green") if d.get("healthy") else Text("NO", "bold red")
            if feed and self.console.width < NARROW:
                if feed.get("disconnects"):
                    conn.append(f" {feed['disconnects']} drops", "yellow")
            elif feed:
                conn.append(
                    f" ({feed.get('connects', 0)} conn, {feed.get('disconnects', 0)} drop)", "dim"
                )
            breaker = str(d.get("breaker"))
            oldest = max(ages[v], default=None)
            reuse = d.get("connection_reuse")
            frames = Text(str(feed.get("frames", "-")))
            for key, word in (("unparsable_frames", "bad"), ("resubscribes", "resub")):
                if feed.get(key):
                    frames.append(f" {feed[key]} {word}", "yellow")
            cells = [frames] + ([_rate_limit_cell(d)] if limits else [])
            table.add_row(
                label(v),
                conn,
                Text(breaker, "green" if breaker == "closed" else "bold red"),
                Text(
                    "-" if oldest is None else f"{oldest} ms",
                    "bold red" if oldest is not None and oldest > self.stale_ms else "",
                ),
                f"{d.get('clock_offset_ms', '-')} ms",
                str(d.get("requests", "-")),
                "-" if reuse is None else f"{reuse:.0%}",
                *cells,
            )
        return table

    def _latency(self, snap: Loose) -> RenderableType:
        st = snap.get("stats") or {}
        table = self._table("Latency")
        for col in ("", "n", "p50", "p99", "max"):
            # Numbers are never cut short: they keep their width, names wrap instead.
            table.add_column(
                col, justify="left" if not col else "right", min_width=8 if col else None
            )
        rows = [("tick-to-trade", st.get("tick_to_trade"))]
        for v in self._vs:
            rows.append((f"{label(v)} leg ack", (st.get("leg_ack") or {}).get(v)))
        rows.append(("book age at decision", st.get("decision_book_age")))
        if (st.get("python_veto") or {}).get("count"):
            rows.append(("python veto", st.get("python_veto")))
        for name, h in rows:
            h = h or {}
            table.add_row(
                name,
                str(h.get("count", 0)),
                micros(h.get("p50_us")),
                micros(h.get("p99_us")),
                micros(h.get("max_us")),
            )
        return table

    def _trading(self, snap: Loose) -> RenderableType:
        st = snap.get("stats") or {}
        risk = snap.get("risk") or {}
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim")
        grid.add_column()
        opp = [
            f"{st.get('opportunities_detected', 0)} seen",
            (
                "not sent: dry run"
                if snap.get("dry_run")
                else f"{st.get('opportunities_taken', 0)} taken"
            ),
            f"{st.get('opportunities_vetoed', 0)} vetoed",
            f"{st.get('opportunities_vanished', 0)} vanished",
            f"{st.get('refused_stale', 0)} stale",
        ]
        grid.add_row("opportunities", ", ".join(opp))
        outcomes = st.get("outcomes") or {}
        grid.add_row(
            "outcomes",
            Text(", ".join(f"{k} {n}" for k, n in sorted(outcomes.items())) or "none"),
        )
        grid.add_row("realized PnL", Text(amount(st.get("pnl"), 6), _signed_style(st.get("pnl"))))
        grid.add_row("fees", amount(st.get("fees"), 6))
        grid.add_row("daily PnL (risk)", amount(risk.get("daily_pnl"), 6))
        grid.add_row("open arbitrages", str(risk.get("open_arbitrages", 0)))
        errors = st.get("errors") or {}
        grid.add_row(
            "errors",
            Text(
                ", ".join(f"{k} {n}" for k, n in sorted(errors.items())) or "none",
                "bold red" if errors else "",
            ),
        )
        if snap.get("journal_errors"):
            grid.add_row("journal errors", Text(str(snap["journal_errors"]), "bold red"))
        return Panel(grid, title="Trading", title_align="left", border_style="blue")

    def _inventory(self, snap: Loose) -> RenderableType:
        inv = snap.get("inventory") or {}
        assets = sorted({a for per in inv.values() for a in per})
        table = self._table("Inventory change")
        table.add_column("asset", style="bold")
        for v in self._vs:
            table.add_column(label(v), justify="right")
        table.add_column("net", justify="right")
        for a in assets:
            cells = [(inv.get(v) or {}).get(a) for v in self._vs]
            net = sum((Decimal(c) for c in cells if c is not None), Decimal(0))
            table.add_row(
                a,
                *(Text(c or "0", _signed_style(c)) for c in cells),
                Text(str(net), _signed_style(str(net))),
            )
        if not assets:
            table.add_row("none yet", *([""] * (len(self._vs) + 1)))
        return table

    def _activity_panel(self) -> RenderableType:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True, min_width=8)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        for t, _, text in reversed(self._activity):
            grid.add_row(time.strftime("%H:%M:%S", time.localtime(t)), text)
        if not self._activity:
            grid.add_row("", Text("no opportunity yet", "dim"))
        return Panel(
            grid,
            title="Opportunities and transactions (newest first)",
            title_align="left",
            border_style="cyan",
        )

    def _alerts_panel(self) -> RenderableType:
        parts: list[RenderableType] = []
        if self._firing:
            for a in self._firing.values():
                sev = str(a.get("severity", "")).lower()
                parts.append(
                    Text(
                        f"● {a.get('name')} [{sev}] {a.get('message', '')}",
                        "bold red" if sev == "critical" else "yellow",
                    )
                )
        else:
            parts.append(Text("no alert firing", "green"))
        for t, a in list(self._alert_log)[-2:]:
            state = "fired" if a.get("firing") else "cleared"
            parts.append(
                Text(
                    f"{time.strftime('%H:%M:%S', time.localtime(t))} {a.get('name')} {state}", "dim"
                )
            )
        if self._log:
            parts.append(Text("log", "bold dim"))
            for line in self._log:
                text = Text.from_ansi(_LOG_TIME.sub(r"\1", line))
                text.no_wrap = True
                text.overflow = "ellipsis"
                parts.append(text)
        return Panel(
            Group(*parts),
            title="Alerts and log",
            title_align="left",
            border_style="red" if self._firing else "green",
        )

    def _side_by_side(self, left: RenderableType, right: RenderableType) -> RenderableType:
        if self.console.width < NARROW:  # one above the other on a small terminal
            return Group(left, right)
        # Fixed column widths: rich then does not measure the nested tables twice (a
        # third of a frame's cost).
        half = max((self.console.width - 1) // 2, 20)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=half)
        grid.add_column(width=self.console.width - half - 1)
        grid.add_row(left, right)
        return grid

    @staticmethod
    def _opportunity_text(ev: Loose) -> Text:
        decision = str(ev.get("decision"))
        t = Text()
        t.append("opportunity ", "cyan")
        t.append(f"{ev.get('symbol')} ", "bold")
        t.append(
            f"buy {VENUE_LABEL.get(str(ev.get('buy')), ev.get('buy'))} "
            f"sell {VENUE_LABEL.get(str(ev.get('sell')), ev.get('sell'))} "
            f"qty {ev.get('qty')} edge {ev.get('edge_bps')} bps "
        )
        t.append(decision, "green" if decision == "taken" else "yellow")
        return t

    @staticmethod
    def _transaction_text(ev: Loose) -> Text:
        outcome = str(ev.get("outcome"))
        t = Text()
        t.append(f"tx {ev.get('tx_id')} ", "magenta")
        t.append(f"{ev.get('symbol')} ", "bold")
        t.append(outcome, "bold green" if outcome == "completed" else "bold yellow")
        t.append(" PnL ")
        t.append(amount(ev.get("realized_pnl"), 6), _signed_style(ev.get("realized_pnl")))
        t.append(f" fees {amount(ev.get('fees_quote'), 6)}")
        if ev.get("tick_to_trade_us") is not None:
            t.append(f" t2t {micros(ev['tick_to_trade_us'])}", "dim")
        return t


def _rate_limit_cell(venue: Loose) -> Text:
    rl = dict(venue.get("rate_limit") or {})
    if "rate_limit_headroom" in venue:
        rl.setdefault("headroom", venue["rate_limit_headroom"])
    t = Text()
    if rl.get("headroom") is not None:
        t.append(f"headroom {rl['headroom']}", "bold red" if rl["headroom"] == 0 else "green")
    if rl.get("waits"):
        t.append(f" waited {rl['waits']}", "yellow")
    if rl.get("venue_blocks"):
        t.append(f" venue said stop {rl['venue_blocks']}", "bold red")
    return t if t.plain else Text("ok", "green")


def _books_empty(snap: Loose) -> bool:
    return not any(
        v.get("bid") or v.get("ask")
        for s in (snap.get("symbols") or {}).values()
        for v in (s.get("venues") or {}).values()
    )
