"""The reliability campaign: the engine trades against the simulator while the venues
misbehave and the engine is killed with SIGKILL; afterwards every order and fill is
accounted for.

The simulator runs in this process (so a SIGKILL of the engine leaves the venue alive,
as a real venue would be); the engine runs as a separate ``python -m arbhybrid run
--live`` process pointed at it, exactly as it would trade a real venue. The campaign
watches the engine through its status endpoint (``GET /status``, the same snapshot
``RunningEngine.snapshot()`` gives) and its journal, injects faults through
``Simulator.inject_fault`` and, per fault kind, counts what was injected (the
simulator's ``fired``), what the engine detected (its counters moved), what it recovered
from (books valid again / transaction closed) and how long recovery took.

At the end the engine is stopped cleanly and the ground truth is compared with the
journal: orders at the venue vs. orders the journal intended, fills at the venue vs.
fills in the journal (by trade id; lost and duplicated), balance changes at the venue
vs. those the journal's fills imply (per venue and asset, exactly), and PnL.

``soak()`` is the long run without faults: many symbols at the simulator's full update
rate, sampling RSS, book lag and tick-to-trade.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbhybrid.app import live_journal
from arbhybrid.simulator import Simulator

REPO = Path(__file__).resolve().parents[2]
VENUES = ("mexc", "gateio")
MAJORS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT")
#: How long one fault may take to be detected and recovered from before it counts as
#: not recovered: more than the feed's longest reconnect backoff (30 s) plus a resync.
RECOVERY_TIMEOUT_S = 60.0
#: How long the journal may lag the venue once the engine has settled (its writer
#: commits in batches behind the order path) before a disagreement is a finding.
JOURNAL_LAG_S = 5.0
#: Staleness threshold the campaign runs the engine with (stalls are longer than this).
STALE_MS = 1500

# Fault kinds in the order of the table.
BOOK_KINDS = ("disconnect", "gap", "stall", "crossed_frame", "malformed_frame")
REST_KINDS = ("rest_429", "rest_5xx", "apply_then_timeout", "reject_without_apply")
ORDER_KINDS = ("partial_fill", "listen_key_expiry")
KINDS = (*BOOK_KINDS, *REST_KINDS, *ORDER_KINDS, "kill_9")
# Relative frequency of each action (a storm of disconnects or a burst of gaps is one
# action; kill -9 is scheduled separately).
WEIGHTS = {
    "disconnect": 6,
    "gap": 6,
    "stall": 2,
    "crossed_frame": 2,
    "malformed_frame": 2,
    "rest_429": 2,
    "rest_5xx": 2,
    "apply_then_timeout": 1,
    "reject_without_apply": 1,
    "partial_fill": 2,
    "listen_key_expiry": 1,
}


def symbols_for(n: int) -> list[str]:
    """``n`` unified symbols: the majors first (they have balances and trade), then
    generated three-letter bases (``AAB/USDT``...)."""
    out = list(MAJORS[: min(n, len(MAJORS))])
    i = 0
    while len(out) < n:
        a, b, c = i // 676, (i // 26) % 26, i % 26
        out.append(f"{chr(81 + a % 10)}{chr(65 + b)}{chr(65 + c)}/USDT")
        i += 1
    return out


def venue_symbol(venue: str, unified: str) -> str:
    base, quote = unified.split("/")
    return f"{base}{quote}" if venue == "mexc" else f"{base}_{quote}"


def engine_env(sim: Simulator, workdir: Path, symbols: list[str]) -> dict[str, str]:
    """The environment of an engine process trading ``sim`` (keys, URLs, journal) with
    the campaign's settings.

    The kill switches on resyncs and hedge failures are lifted: the campaign causes
    thousands of resyncs on purpose, and a halted engine would stop exercising the
    order path (the switches have their own tests)."""
    e = sim.endpoints
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARB", "MEXC", "GATEIO"))}
    env.update(
        {
            "MEXC_REST_URL": e.mexc_rest,
            "MEXC_WS_URL": e.mexc_ws,
            "GATEIO_REST_URL": e.gate_rest,
            "GATEIO_WS_URL": e.gate_ws,
            "MEXC_API_KEY": sim.account("mexc").api_key,
            "MEXC_API_SECRET": sim.account("mexc").api_secret,
            "GATEIO_API_KEY": sim.account("gateio").api_key,
            "GATEIO_API_SECRET": sim.account("gateio").api_secret,
            "ARB__JOURNAL__PATH": str(workdir / "journal.sqlite"),
            "ARB__LOGGING__FILE": str(workdir / "engine.log"),
            "ARB__LOGGING__CONSOLE": "false",
            "ARB__STRATEGY__SYMBOLS": json.dumps(symbols),
            "ARB__STRATEGY__BALANCE_MODE": "stream",
            "ARB__STRATEGY__COOLDOWN_MS": "100",
            "ARB__RISK__KILL_SWITCHES__RESYNCS_PER_MINUTE": "1000000",
            "ARB__RISK__KILL_SWITCHES__CONSECUTIVE_HEDGE_FAILURES": "1000000",
            "ARB__MARKET_DATA__STALENESS_MS": str(STALE_MS),
            "ARB__MARKET_DATA__RECONNECT_AFTER_STALE_MS": str(STALE_MS * 4),
        }
    )
    return env


class EngineProcess:
    """One ``python -m arbhybrid run --live`` process and its status endpoint."""

    def __init__(self, env: dict[str, str], workdir: Path, *args: str) -> None:
        self.workdir = workdir
        self.state_file = workdir / "engine.json"
        self.started = time.monotonic()
        out = (workdir / "engine.out").open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "arbhybrid",
                "run",
                "--live",
                "--config",
                str(REPO / "config.yaml"),
                *args,
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        self.url: str | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Waits until this process answers ``/status``; returns seconds since start."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"engine exited with {self.proc.returncode}: {self.tail()}")
            with contextlib.suppress(OSError, ValueError):
                st = json.loads(self.state_file.read_text())
                if st.get("pid") == self.pid:
                    self.url = st["url"]
                    if self.snapshot() is not None:
                        return time.monotonic() - self.started
            time.sleep(0.02)
        raise RuntimeError(f"engine not ready after {timeout} s: {self.tail()}")

    def snapshot(self) -> dict[str, Any] | None:
        if self.url is None:
            return None
        try:
            with urllib.request.urlopen(self.url + "/status", timeout=5) as r:
                snap: dict[str, Any] = json.loads(r.read())["snapshot"]
                return snap
        except (OSError, ValueError, KeyError):
            return None

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 120.0) -> int:
        """SIGTERM: the engine finishes running transactions and exits."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def rss_kb(self) -> int | None:
        """The resident set of the engine process (from /proc), in KiB."""
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def tail(self, n: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return (self.workdir / "engine.out").read_text(errors="replace")[-n:]
        return ""


def _ro(journal: Path) -> contextlib.closing[sqlite3.Connection]:
    """The journal, read-only (the engine may be writing it), closed on exit."""
    return contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=2))


# --- reading a snapshot -----------------------------------------------------------------


def books(snap: dict[str, Any], venue: str) -> dict[str, dict[str, Any]]:
    return {s: d["venues"][venue] for s, d in snap.get("symbols", {}).items()}


def all_valid(snap: dict[str, Any] | None, venue: str, symbol: str | None = None) -> bool:
    if snap is None:
        return False
    b = books(snap, venue)
    if symbol is not None:
        return bool(b.get(symbol, {}).get("valid"))
    return bool(b) and all(x.get("valid") for x in b.values())


def book_sum(snap: dict[str, Any], venue: str, key: str, symbol: str | None = None) -> int:
    return sum(int(x.get(key) or 0) for s, x in books(snap, venue).items() if symbol in (None, s))


def feed(snap: dict[str, Any], venue: str, key: str) -> int:
    f = snap.get("venues", {}).get(venue, {}).get("feed") or {}
    return int(f.get(key) or 0)


def errors(snap: dict[str, Any], *classes: str) -> int:
    e = snap.get("stats", {}).get("errors", {})
    return sum(int(e.get(c, 0)) for c in classes)


def outcomes(snap: dict[str, Any], *kinds: str) -> int:
    o = snap.get("stats", {}).get("outcomes", {})
    return sum(int(o.get(k, 0)) for k in kinds)


def private_stream(snap: dict[str, Any], venue: str) -> dict[str, Any] | None:
    ps: dict[str, Any] | None = snap.get("venues", {}).get(venue, {}).get("private_stream")
    return ps


def open_arbitrages(snap: dict[str, Any] | None) -> int:
    if snap is None:
        return 1
    return int(snap.get("risk", {}).get("open_arbitrages") or 0)


# --- results ----------------------------------------------------------------------------


@dataclass
class KindStats:
    """What happened to one fault kind over the campaign."""

    actions: int = 0
    injected: int = 0
    detected: int = 0
    recovered: int = 0
    not_recovered: int = 0
    ttr_ms: list[float] = field(default_factory=list)
    notes: set[str] = field(default_factory=set)
    #: The engine exposes nothing that shows this fault was noticed.
    unobservable: bool = False

    def row(self, kind: str) -> dict[str, Any]:
        t = sorted(self.ttr_ms)
        return {
            "kind": kind,
            "actions": self.actions,
            "injected": self.injected,
            "detected": "n/a" if self.unobservable and not self.detected else self.detected,
            "recovered": self.recovered,
            "not_recovered": self.not_recovered,
            "ttr_p50_ms": round(statistics.median(t)) if t else None,
            "ttr_max_ms": round(t[-1]) if t else None,
            "notes": sorted(self.notes),
        }


@dataclass
class Accounting:
    """The ground truth against the journal after the campaign."""

    orders_journal: dict[str, int] = field(default_factory=dict)
    orders_venue: dict[str, int] = field(default_factory=dict)
    orders_at_venue_not_in_journal: dict[str, list[str]] = field(default_factory=dict)
    orders_open_at_venue: dict[str, list[str]] = field(default_factory=dict)
    #: Orders the journal still shows as in flight (its last word on them) although the
    #: venue has them final or never got them: the journal's order row is stale.
    journal_status_not_final: dict[str, list[str]] = field(default_factory=dict)
    fills_venue: dict[str, int] = field(default_factory=dict)
    fills_journal: dict[str, int] = field(default_factory=dict)
    fills_lost: dict[str, list[str]] = field(default_factory=dict)
    fills_extra: dict[str, list[str]] = field(default_factory=dict)
    fills_duplicated: dict[str, list[str]] = field(default_factory=dict)
    balance_mismatches: list[str] = field(default_factory=list)
    balance_deltas: dict[str, dict[str, str]] = field(default_factory=dict)
    unfinished_transactions: list[int] = field(default_factory=list)
    #: Transactions closed with base left over (tx id, symbol, residual, last event).
    hedge_failed: list[str] = field(default_factory=list)
    #: Transactions whose fills do not net to zero base although the journal closed
    #: them flat (tx id, outcome, journal residual, net per fills).
    positions_left: list[str] = field(default_factory=list)
    transactions: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    pnl_engine: str = "0"
    pnl_venue: str = "0"
    pnl_venue_note: str = ""

    @property
    def clean(self) -> bool:
        return not (
            any(self.orders_at_venue_not_in_journal.values())
            or any(self.orders_open_at_venue.values())
            or any(self.fills_lost.values())
            or any(self.fills_extra.values())
            or any(self.fills_duplicated.values())
            or self.balance_mismatches
            or self.unfinished_transactions
            or self.positions_left
        )


@dataclass
class Report:
    command: str
    minutes: float
    symbols: int
    seed: int
    kinds: dict[str, KindStats]
    accounting: Accounting
    engine_runs: int = 0
    panics: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        a = self.accounting
        return {
            "command": self.command,
            "minutes": self.minutes,
            "symbols": self.symbols,
            "seed": self.seed,
            "wall_s": round(self.wall_s, 1),
            "engine_runs": self.engine_runs,
            "faults": [self.kinds[k].row(k) for k in KINDS if k in self.kinds],
            "accounting": {**a.__dict__, "clean": a.clean},
            "panics": self.panics,
            "findings": self.findings,
        }

    def table(self) -> str:
        rows = [self.kinds[k].row(k) for k in KINDS if k in self.kinds]
        head = ("fault", "actions", "injected", "detected", "recovered", "ttr p50 ms", "ttr max ms")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in rows:
            cells = [
                r["kind"],
                r["actions"],
                r["injected"],
                r["detected"],
                f"{r['recovered']}/{r['recovered'] + r['not_recovered']}",
                "-" if r["ttr_p50_ms"] is None else r["ttr_p50_ms"],
                "-" if r["ttr_max_ms"] is None else r["ttr_max_ms"],
            ]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        lines.append("")
        for r in rows:
            for note in r["notes"]:
                lines.append(f"- {r['kind']}: {note}")
        a = self.accounting
        lines += ["", "| accounting | mexc | gateio |", "|---|---|---|"]

        def pair(d: dict[str, Any], fmt: Callable[[Any], str] = str) -> str:
            return " | ".join(fmt(d.get(v, 0)) for v in VENUES)

        n = len  # counts of id lists
        lines += [
            f"| orders intended (journal) | {pair(a.orders_journal)} |",
            f"| orders at the venue | {pair(a.orders_venue)} |",
            f"| venue orders unknown to the journal | "
            f"{pair(a.orders_at_venue_not_in_journal, lambda x: str(n(x or [])))} |",
            f"| orders left open | {pair(a.orders_open_at_venue, lambda x: str(n(x or [])))} |",
            f"| journal order rows left in flight | "
            f"{pair(a.journal_status_not_final, lambda x: str(n(x or [])))} |",
            f"| fills at the venue | {pair(a.fills_venue)} |",
            f"| fills in the journal | {pair(a.fills_journal)} |",
            f"| fills lost | {pair(a.fills_lost, lambda x: str(n(x or [])))} |",
            f"| fills duplicated | {pair(a.fills_duplicated, lambda x: str(n(x or [])))} |",
            f"| journal fills not at the venue | "
            f"{pair(a.fills_extra, lambda x: str(n(x or [])))} |",
        ]
        outcome_text = ", ".join(f"{k} {v}" for k, v in sorted(a.outcomes.items()))
        verdict = "NOTHING LOST, NOTHING DUPLICATED" if a.clean else "DISCREPANCIES (see findings)"
        lines += [
            "",
            f"transactions: {a.transactions} ({outcome_text}); "
            f"unfinished: {len(a.unfinished_transactions)}; closed flat but not flat per "
            f"their fills: {len(a.positions_left)}",
            f"balance changes, venue vs. journal fills (every venue and asset): "
            f"{'equal' if not a.balance_mismatches else '; '.join(a.balance_mismatches)}",
            f"PnL per the engine (journal, realized): {a.pnl_engine}; per the venues "
            f"(balance deltas): {a.pnl_venue} {a.pnl_venue_note}",
            f"engine runs: {self.engine_runs}; panics: {len(self.panics)}; verdict: {verdict}",
        ]
        for f in self.findings:
            lines.append(f"FINDING: {f}")
        return "\n".join(lines)


# --- the campaign -----------------------------------------------------------------------


class Campaign:
    """One campaign run. ``run()`` returns the :class:`Report`."""

    def __init__(
        self,
        *,
        minutes: float,
        kills: int,
        symbols: int,
        seed: int,
        workdir: Path,
        command: str = "",
        log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
        per_kind_limit: int | None = None,
    ) -> None:
        self.minutes = minutes
        self.kills = kills
        self.symbols = symbols_for(symbols)
        self.seed = seed
        self.rng = random.Random(seed)
        self.workdir = workdir
        self.command = command
        self.log = log
        #: At most this many actions per kind (the short CI version).
        self.per_kind_limit = per_kind_limit
        self.kinds: dict[str, KindStats] = {k: KindStats() for k in KINDS}
        self.sim: Simulator | None = None
        self.engine: EngineProcess | None = None
        self.engine_runs = 0
        self.connections_closed = 0
        self.findings: list[str] = []

    # -- plumbing

    @property
    def journal(self) -> Path:
        return live_journal(self.workdir / "journal.sqlite")

    def snap(self) -> dict[str, Any] | None:
        assert self.engine is not None
        return self.engine.snapshot()

    def start_engine(self, *args: str) -> float:
        assert self.sim is not None
        self.engine = EngineProcess(
            engine_env(self.sim, self.workdir, self.symbols), self.workdir, *args
        )
        self.engine_runs += 1
        return self.engine.wait_ready()

    def watch(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = RECOVERY_TIMEOUT_S
    ) -> float | None:
        """Polls the snapshot until ``pred`` holds; the seconds it took, or None."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            s = self.snap()
            if s is not None and pred(s):
                return time.monotonic() - t0
            if self.engine is not None and not self.engine.alive():
                self.findings.append(f"engine died: {self.engine.tail(1500)}")
                return None
            time.sleep(0.02)
        return None

    def fired(self, fault_id: int) -> int:
        assert self.sim is not None
        for f in self.sim.faults():
            if f["id"] == fault_id:
                return int(f["fired"])
        return 0

    def wait_fired(self, fault_id: int, want: int, timeout: float) -> int:
        t0 = time.monotonic()
        n = self.fired(fault_id)
        while n < want and time.monotonic() - t0 < timeout:
            time.sleep(0.05)
            n = self.fired(fault_id)
        return n

    def inject(self, venue: str, kind: str, **params: Any) -> int:
        assert self.sim is not None
        return self.sim.inject_fault(venue, kind, **params)

    def settle(self, timeout: float = RECOVERY_TIMEOUT_S) -> float | None:
        """Waits for both venues' books to be valid and no arbitrage open."""
        return self.watch(
            lambda s: all(all_valid(s, v) for v in VENUES) and open_arbitrages(s) == 0,
            timeout,
        )

    def record(
        self, kind: str, injected: int, detected: int, ttr_s: float | None, note: str = ""
    ) -> None:
        k = self.kinds[kind]
        k.actions += 1
        k.injected += injected
        k.detected += min(detected, injected)
        if injected == 0:
            k.notes.add("some injections never fired (no matching traffic)")
            return
        if ttr_s is None:
            k.not_recovered += 1
            self.findings.append(
                f"{kind}: not recovered within {RECOVERY_TIMEOUT_S:.0f} s "
                f"(injected at {time.strftime('%H:%M:%S', time.gmtime())} UTC minus the wait)"
            )
        else:
            k.recovered += 1
            k.ttr_ms.append(ttr_s * 1000)
        if note:
            k.notes.add(note)

    # -- book faults

    def act_disconnect(self, venue: str) -> None:
        """A storm: several forced closes, each waited out (reconnected, books valid)."""
        for _ in range(self.rng.randint(2, 5)):
            before = self.snap()
            if before is None:
                return
            scope = self.rng.choice(["all", "public"])
            t0 = time.monotonic()
            fid = self.inject(venue, "close_connections", scope=scope)
            c0 = feed(before, venue, "connects")
            ttr = self.watch(
                lambda s, c0=c0: feed(s, venue, "connects") > c0 and all_valid(s, venue)
            )
            after = self.snap() or before
            # `fired` counts the connections closed (public feed shards, the private
            # stream, Gate's trading WebSocket); one injection is one disconnect of the
            # venue, and the public feed's counter is what the engine shows.
            fired = self.fired(fid)
            self.connections_closed += fired
            detected = feed(after, venue, "disconnects") - feed(before, venue, "disconnects")
            self.record("disconnect", min(1, fired), detected, ttr and (time.monotonic() - t0))

    def act_gap(self, venue: str) -> None:
        """A burst of gaps (each use skips one sequence number on the next push of some
        book); time to recover runs from the last gap fired to every book valid."""
        before = self.snap()
        if before is None:
            return
        n = self.rng.randint(50, 150)
        fid = self.inject(venue, "gap", count=n, duration_ms=5000)
        fired, t_last = 0, time.monotonic()
        t_end = time.monotonic() + 6
        while fired < n and time.monotonic() < t_end:
            f = self.fired(fid)
            if f != fired:
                fired, t_last = f, time.monotonic()
            time.sleep(0.02)
        g0, r0 = book_sum(before, venue, "gaps"), book_sum(before, venue, "resyncs")
        ttr = self.watch(lambda s: book_sum(s, venue, "resyncs") > r0 and all_valid(s, venue))
        after = self.snap() or before
        detected = book_sum(after, venue, "gaps") - g0
        self.record("gap", fired, detected, ttr and (time.monotonic() - t_last))
        if fired and detected < fired:
            self.kinds["gap"].notes.add(
                "several gaps of one book within one resync are one detection"
            )

    def act_stall(self, venue: str) -> None:
        before = self.snap()
        if before is None:
            return
        secs = round(self.rng.uniform(STALE_MS / 1000 + 0.5, STALE_MS / 1000 + 1.5), 2)
        seen_invalid = False

        def stale_seen(s: dict[str, Any]) -> bool:
            nonlocal seen_invalid
            if not all_valid(s, venue):
                seen_invalid = True
            return seen_invalid

        fid = self.inject(venue, "stall", secs=secs)
        t_end = time.monotonic() + secs
        self.watch(stale_seen, secs + 5)
        ttr = self.watch(lambda s: all_valid(s, venue))
        after = self.snap() or before
        detected = int(seen_invalid) or int(
            book_sum(after, venue, "resyncs") > book_sum(before, venue, "resyncs")
        )
        self.record(
            "stall",
            self.fired(fid),
            detected,
            None if ttr is None else max(0.0, time.monotonic() - t_end),
            "time to recover is measured from the end of the stall",
        )

    def _symbol_fault(self, venue: str, kind: str, detect_key: str) -> None:
        before = self.snap()
        if before is None:
            return
        unified = self.rng.choice(self.symbols)
        t0 = time.monotonic()
        fid = self.inject(venue, kind, symbol=venue_symbol(venue, unified))
        r0 = book_sum(before, venue, "resyncs", unified)
        u0 = feed(before, venue, "unparsable_frames")
        if detect_key == "resyncs":
            ttr = self.watch(
                lambda s: (
                    book_sum(s, venue, "resyncs", unified) > r0 and all_valid(s, venue, unified)
                )
            )
        else:
            ttr = self.watch(
                lambda s: feed(s, venue, "unparsable_frames") > u0 and all_valid(s, venue)
            )
        after = self.snap() or before
        detected = (
            book_sum(after, venue, "resyncs", unified) - r0
            if detect_key == "resyncs"
            else feed(after, venue, "unparsable_frames") - u0
        )
        # An instant fault acts once per open connection: one injection.
        self.record(kind, min(1, self.fired(fid)), detected, ttr and (time.monotonic() - t0))

    def act_crossed_frame(self, venue: str) -> None:
        self._symbol_fault(venue, "crossed_frame", "resyncs")

    def act_malformed_frame(self, venue: str) -> None:
        self._symbol_fault(venue, "malformed_frame", "unparsable_frames")

    # -- REST and order faults (they fire when the engine sends requests)

    def _request_fault(
        self,
        kind: str,
        venue: str,
        fault: str,
        classes: tuple[str, ...],
        count: int,
        **params: Any,
    ) -> None:
        before = self.snap()
        if before is None:
            return
        assert self.sim is not None
        e0 = errors(before, *classes)
        seen = {v: {o["client_order_id"] for o in self.sim.orders(v)} for v in VENUES}
        fid = self.inject(venue, fault, count=count, duration_ms=20000, **params)
        fired = self.wait_fired(fid, count, 20)
        t0 = time.monotonic()
        # Recovered: every arbitrage closed, the books valid again, and every order the
        # venues got meanwhile is in the journal with the venue's filled quantity.
        ttr = self.settle()
        after = self.snap() or before
        detected = errors(after, *classes) - e0
        if ttr is not None and not self.orders_agree(seen):
            ttr = None
        self.record(kind, fired, detected, ttr and (time.monotonic() - t0))
        if fired and detected == 0:
            self.kinds[kind].unobservable = True
            self.kinds[kind].notes.add(
                "no counter in the engine's snapshot moves (handled inside arb-exec)"
            )

    def until_journaled(
        self, check: Callable[[str, dict[str, Any]], str | None], orders: list[tuple[str, str]]
    ) -> list[str]:
        """The problems ``check(venue, order)`` still finds with the venue orders
        ``orders`` (venue, client order id) once the engine has settled and the journal
        had ``JOURNAL_LAG_S`` to catch up.

        The journal is written behind the order path (a writer thread commits batches)
        and the market keeps trading while the campaign looks: an order of a
        transaction that started after the last settle can be at the venue, even
        filled, before its rows are committed or its transaction is over. Such an order
        is not a disagreement yet, so the orders that disagree are looked at again (as
        the venue has them then) after the engine settled; what still disagrees is a
        finding."""
        assert self.sim is not None
        pending = list(orders)
        deadline: float | None = None
        while True:
            at = {v: {o["client_order_id"]: o for o in self.sim.orders(v)} for v in VENUES}
            bad = [(v, c, why) for v, c in pending if (why := check(v, at[v][c])) is not None]
            if not bad:
                return []
            if deadline is not None and time.monotonic() > deadline:
                return [why for _, _, why in bad]
            if self.settle() is None:
                return [why for _, _, why in bad]
            deadline = deadline or time.monotonic() + JOURNAL_LAG_S
            pending = [(v, c) for v, c, _ in bad]
            time.sleep(0.05)

    def orders_agree(self, seen: dict[str, set[str]]) -> bool:
        """Every venue order not in ``seen`` is in the journal with the venue's filled
        quantity; a disagreement is a finding."""
        assert self.sim is not None

        def check(v: str, o: dict[str, Any]) -> str | None:
            row = self.journal_order(o["client_order_id"].removeprefix("t-"))
            filled = Decimal(o["filled_qty"] or 0)
            jf = Decimal(row[0]) if row and row[0] not in (None, "") else Decimal(0)
            if row is None or jf != filled:
                return (
                    f"{v} order {o['client_order_id']} filled {filled} at the venue, journal {row}"
                )
            return None

        new = [
            (v, o["client_order_id"])
            for v in VENUES
            for o in self.sim.orders(v)
            if o["client_order_id"] not in seen[v]
        ]
        bad = self.until_journaled(check, new)
        self.findings.extend(bad)
        return not bad

    def act_rest_429(self, venue: str) -> None:
        self._request_fault(
            "rest_429",
            venue,
            "rest_rate_limit",
            ("rate_limit",),
            self.rng.randint(2, 6),
            retry_after_secs=1,
        )

    def act_rest_5xx(self, venue: str) -> None:
        self._request_fault(
            "rest_5xx",
            venue,
            "rest_status",
            ("venue", "network"),
            self.rng.randint(1, 3),
            status=self.rng.choice([500, 502, 503]),
        )

    def act_apply_then_timeout(self, venue: str) -> None:
        self._request_fault(
            "apply_then_timeout", venue, "apply_then_timeout", ("timeout", "unknown_outcome"), 1
        )

    def act_reject_without_apply(self, venue: str) -> None:
        self._request_fault(
            "reject_without_apply",
            venue,
            "reject_without_apply",
            ("venue", "network", "unknown_outcome"),
            1,
        )

    def act_partial_fill(self, venue: str) -> None:
        """One order filled only in part. Detected: the journal has exactly the venue's
        filled quantity for that order; recovered: its transaction is closed with no
        residual."""
        assert self.sim is not None
        seen_all = {v: {o["client_order_id"] for o in self.sim.orders(v)} for v in VENUES}
        seen = seen_all[venue]
        fid = self.inject(
            venue, "partial_fill", pct=self.rng.randint(20, 80), count=1, duration_ms=20000
        )
        fired = self.wait_fired(fid, 1, 20)
        t0 = time.monotonic()
        ttr = self.settle()
        # Detected: the journal holds the venue's exact filled quantity for every order
        # placed meanwhile, the partially filled one included (a quote-sized market buy
        # has no base size to compare with, so the check covers every order).
        agree = self.orders_agree(seen_all)
        hit = [
            o
            for o in self.sim.orders(venue)
            if o["client_order_id"] not in seen
            and Decimal(o["qty"] or 0) > 0
            and 0 < Decimal(o["filled_qty"] or 0) < Decimal(o["qty"])
        ]

        def check(v: str, o: dict[str, Any]) -> str | None:
            # Closed with no residual; or as dust, a residual the engine found neither
            # venue can trade (kept in the inventory; the accounting still checks it).
            row = self.journal_order(o["client_order_id"].removeprefix("t-"))
            if row and row[1] is not None and (row[1] == "dust" or Decimal(row[2] or 0) == 0):
                return None
            return f"partial fill of {v} {o['client_order_id']}: journal {row}"

        unclosed = self.until_journaled(check, [(venue, o["client_order_id"]) for o in hit])
        self.findings.extend(unclosed)
        detected, closed = int(agree), ttr is not None and not unclosed
        self.record(
            "partial_fill",
            min(fired, 1),
            detected,
            (time.monotonic() - t0) if closed and ttr is not None else None,
            "detected = the journal has the venue's exact filled quantity of every order",
        )

    def journal_order(self, cid: str) -> tuple[Any, ...] | None:
        """(filled_qty, transaction outcome, residual_base) of one order in the journal."""
        with contextlib.suppress(sqlite3.Error), _ro(self.journal) as c:
            r = c.execute(
                "SELECT o.filled_qty, t.outcome, t.residual_base FROM orders o "
                "LEFT JOIN transactions t ON t.tx_id = o.tx_id WHERE o.client_order_id = ?",
                (cid,),
            ).fetchone()
            return tuple(r) if r else None
        return None

    def act_listen_key_expiry(self, venue: str) -> None:
        """MEXC only (Gate has no listenKey): every listenKey expires. Detected: the
        private stream made a new listenKey (``venues.mexc.private_stream``); recovered:
        it is connected again on it and every arbitrage is closed."""
        before = self.snap()
        if before is None:
            return
        ps0 = private_stream(before, "mexc")
        t0 = time.monotonic()
        fid = self.inject("mexc", "expire_listen_keys")
        if ps0 is None:  # an engine without private-stream counters
            ttr = self.settle()
            self.record(
                "listen_key_expiry",
                self.fired(fid),
                0,
                ttr and (time.monotonic() - t0),
                "the snapshot has no private-stream counters (reconnects, listenKeys created)",
            )
            self.kinds["listen_key_expiry"].unobservable = True
            return
        k0 = int(ps0.get("listen_keys_created") or 0)

        def back(s: dict[str, Any]) -> bool:
            ps = private_stream(s, "mexc") or {}
            return int(ps.get("listen_keys_created") or 0) > k0 and bool(ps.get("connected"))

        ttr = self.watch(back)
        if ttr is not None:
            ttr = self.settle()
        after = self.snap() or before
        k1 = int((private_stream(after, "mexc") or {}).get("listen_keys_created") or 0)
        self.record(
            "listen_key_expiry",
            self.fired(fid),
            k1 - k0,
            ttr and (time.monotonic() - t0),
            "detected = a new listenKey (private_stream.listen_keys_created)",
        )

    # -- kill -9

    def open_txs(self) -> list[int]:
        if not self.journal.exists():
            return []
        with contextlib.suppress(sqlite3.Error), _ro(self.journal) as c:
            return [r[0] for r in c.execute("SELECT tx_id FROM transactions WHERE outcome IS NULL")]
        return []

    def act_kill(self) -> None:
        assert self.engine is not None
        between_legs = self.rng.random() < 0.5
        moment = "at a random moment"
        if between_legs:
            # Wait (a while) for a transaction in flight, then kill at once.
            t_end = time.monotonic() + 20
            while time.monotonic() < t_end and not self.open_txs():
                time.sleep(0.005)
            if self.open_txs():
                moment = "with a transaction in flight"
        open_at_kill = self.open_txs()
        self.engine.kill9()
        self.log(f"kill -9 {moment} (unfinished in the journal: {len(open_at_kill)})")
        t0 = time.monotonic()
        try:
            self.start_engine()
        except RuntimeError as e:
            self.findings.append(f"restart after kill -9 failed: {e}")
            self.record("kill_9", 1, 0, None)
            return
        snap = self.snap() or {}
        rec = (snap.get("startup_ms") or {}).get("recovery") or {}
        ttr = self.settle()
        still_open = set(open_at_kill) & set(self.open_txs())
        k = self.kinds["kill_9"]
        if still_open:
            self.findings.append(
                "transactions unfinished at kill -9 still open after recovery: "
                f"{sorted(still_open)}"
            )
        detected = 1 if rec else 0
        self.record(
            "kill_9", 1, detected, None if still_open or ttr is None else time.monotonic() - t0
        )
        k.notes.add("time to recover: restart + recovery + books valid + no arbitrage open")
        for err in rec.get("errors", []):
            self.findings.append(f"recovery error after kill -9: {err}")
        self.recovery_totals["canceled_orders"] += int(rec.get("canceled_orders", 0))
        self.recovery_totals["adopted_fills"] += int(rec.get("adopted_fills", 0))
        self.recovery_totals["closed_transactions"] += len(rec.get("transactions", []))
        self.recovery_totals["killed_in_flight"] += len(open_at_kill)

    # -- the run

    def run(self) -> Report:
        t_start = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        for p in (
            "journal.sqlite",  # (where an older version journaled live runs)
            "live/journal.sqlite",
            "live/journal.sqlite-wal",
            "live/journal.sqlite-shm",
            "engine.log",
            "engine.out",
            "engine.json",
        ):
            with contextlib.suppress(FileNotFoundError):
                (self.workdir / p).unlink()
        self.recovery_totals: dict[str, int] = defaultdict(int)
        self.sim = Simulator(
            {
                "seed": self.seed,
                "symbols": self.symbols,
                "update_rate_hz": 30.0,
                "opportunity_rate_per_min": 120.0,
            }
        ).start()
        try:
            start_bal = {v: self.sim.balances(v) for v in VENUES}
            self.start_engine()
            self.log(f"engine ready (pid {self.engine.pid if self.engine else '?'})")
            self.settle(60)
            duration = self.minutes * 60
            kill_at = sorted(self.rng.uniform(0.05, 0.9) * duration for _ in range(self.kills))
            actions = [k for k in WEIGHTS]
            weights = [WEIGHTS[k] for k in actions]
            t0 = time.monotonic()
            last_log = t0
            while True:
                el = time.monotonic() - t0
                if kill_at and el >= kill_at[0]:
                    kill_at.pop(0)
                    self.act_kill()
                    continue
                if el >= duration and not kill_at:
                    break
                if self.engine is None or not self.engine.alive():
                    self.findings.append(
                        f"engine exited on its own: {self.engine.tail(2000) if self.engine else ''}"
                    )
                    self.start_engine()
                    continue
                choices = [
                    (a, w)
                    for a, w in zip(actions, weights, strict=True)
                    if self.per_kind_limit is None or self.kinds[a].actions < self.per_kind_limit
                ]
                if not choices:
                    if kill_at:
                        time.sleep(0.2)
                        kill_at = [time.monotonic() - t0, *kill_at[1:]]
                        continue
                    break
                kind = self.rng.choices([a for a, _ in choices], [w for _, w in choices])[0]
                getattr(self, f"act_{kind}")(self.rng.choice(VENUES))
                if time.monotonic() - last_log > 30:
                    last_log = time.monotonic()
                    done = ", ".join(
                        f"{k} {s.injected}" for k, s in self.kinds.items() if s.actions
                    )
                    self.log(f"[{el:.0f}s] injected: {done}")
            # A last quiet stretch, then a clean stop: running transactions finish.
            self.sim.clear_faults()
            for v in VENUES:
                self.sim.inject_fault(v, "resume")
            self.settle()
            assert self.engine is not None
            code = self.engine.stop()
            if code != 0:
                self.findings.append(f"clean stop exited with {code}: {self.engine.tail(2000)}")
            acc = self.account(start_bal)
        finally:
            if self.engine is not None and self.engine.alive():
                self.engine.kill9()
            self.sim.stop()
        report = Report(
            command=self.command,
            minutes=self.minutes,
            symbols=len(self.symbols),
            seed=self.seed,
            kinds=self.kinds,
            accounting=acc,
            engine_runs=self.engine_runs,
            panics=self.panics(),
            findings=self.findings,
        )
        for v in VENUES:
            for row in acc.journal_status_not_final.get(v, []):
                self.findings.append(f"journal order row left in flight ({v}): {row}")
        for tx in acc.positions_left:
            self.findings.append(f"position left by a transaction closed flat: {tx}")
        for tx in acc.hedge_failed:
            self.findings.append(f"hedge failed, residual left: {tx}")
        dropped = self.dropped_at_once()
        if dropped:
            self.findings.append(
                f"{len(dropped)} fresh feed connections dropped at once as 'every book "
                f"silent' (first: {'; '.join(dropped[:3])})"
            )
        self.kinds["disconnect"].notes.add(
            f"{self.connections_closed} WebSocket connections closed in all"
        )
        for k, v in sorted(self.recovery_totals.items()):
            self.kinds["kill_9"].notes.add(f"{k}: {v}")
        report.wall_s = time.monotonic() - t_start
        return report

    def dropped_at_once(self) -> list[str]:
        """Fresh feed connections dropped within 5 ms of opening after every book was
        declared stale (RELIABILITY.md finding 3), from the engine's log."""
        out: list[str] = []
        state: dict[str, tuple[float, int, str]] = {}
        with contextlib.suppress(OSError):
            for line in (self.workdir / "engine.log").read_text(errors="replace").splitlines():
                try:
                    d = json.loads(line)
                except ValueError:
                    continue
                if d.get("target") != "arb_market::feed":
                    continue
                f = d.get("fields") or {}
                v, ev, t = f.get("venue"), f.get("event"), d.get("ts_ns", 0) / 1e6
                if ev == "connected":
                    state[v] = (t, 0, str(d.get("ts", ""))[11:23])
                elif ev == "stale" and v in state:
                    t0, n, ts = state[v]
                    state[v] = (t0, n + 1, ts)
                elif ev == "reconnect" and v in state:
                    t0, n, ts = state.pop(v)
                    if n >= len(self.symbols) and t - t0 < 5:
                        out.append(f"{v} {ts} UTC ({n} books stale, dropped after {t - t0:.1f} ms)")
        return out

    def panics(self) -> list[str]:
        out = []
        for name in ("engine.out", "engine.log"):
            with contextlib.suppress(OSError):
                for line in (self.workdir / name).read_text(errors="replace").splitlines():
                    if "panicked" in line or "Traceback" in line:
                        out.append(f"{name}: {line[:300]}")
        return out

    def account(self, start_bal: dict[str, dict[str, tuple[Decimal, Decimal]]]) -> Accounting:
        """Compares the venues' ground truth with the journal."""
        assert self.sim is not None
        a = Accounting()
        with _ro(self.journal) as c:
            jorders: dict[str, set[str]] = {v: set() for v in VENUES}
            jstatus: dict[str, dict[str, str]] = {v: {} for v in VENUES}
            for venue, cid, status in c.execute(
                "SELECT venue, client_order_id, status FROM orders"
            ):
                jorders[venue].add(cid)
                jstatus[venue][cid] = status
            jfills: dict[str, list[tuple[str, ...]]] = {v: [] for v in VENUES}
            for row in c.execute(
                "SELECT venue, trade_id, symbol, side, qty, quote_qty, fee, fee_asset FROM fills"
            ):
                jfills[row[0]].append(tuple(row[1:]))
            a.unfinished_transactions = [
                r[0] for r in c.execute("SELECT tx_id FROM transactions WHERE outcome IS NULL")
            ]
            for tx_id, sym, resid in c.execute(
                "SELECT tx_id, symbol, residual_base FROM transactions "
                "WHERE outcome = 'hedge_failed'"
            ):
                why = c.execute(
                    "SELECT detail FROM events WHERE kind = 'hedge_impossible' "
                    "AND detail LIKE ? ORDER BY t_ms DESC LIMIT 1",
                    (f"tx {tx_id}:%",),
                ).fetchone()
                a.hedge_failed.append(
                    f"tx {tx_id} {sym} residual {resid}" + (f" ({why[0]})" if why else "")
                )
            for tx_id, outcome, resid, net, detail in c.execute(
                "SELECT f.tx_id, t.outcome, t.residual_base, SUM(CASE WHEN lower(f.side) = "
                "'buy' THEN CAST(f.qty AS REAL) ELSE -CAST(f.qty AS REAL) END), t.detail "
                "FROM fills f JOIN transactions t ON t.tx_id = f.tx_id GROUP BY f.tx_id"
            ):
                exact = (
                    sum(
                        (
                            Decimal(q) if sd.lower() == "buy" else -Decimal(q)
                            for sd, q in c.execute(
                                "SELECT side, qty FROM fills WHERE tx_id = ?", (tx_id,)
                            )
                        ),
                        Decimal(0),
                    )
                    if abs(net or 0) > 1e-15
                    else Decimal(0)
                )
                if exact != 0 and outcome != "hedge_failed":
                    a.positions_left.append(
                        f"tx {tx_id} {outcome} (journal residual {resid}; {detail}): "
                        f"its fills net {exact} base"
                    )
            a.transactions = int(c.execute("SELECT COUNT(*) FROM transactions").fetchone()[0])
            for outcome, n in c.execute(
                "SELECT outcome, COUNT(*) FROM transactions GROUP BY outcome"
            ):
                a.outcomes[str(outcome)] = int(n)
            a.pnl_engine = str(
                sum(
                    (
                        Decimal(r[0])
                        for r in c.execute(
                            "SELECT realized_pnl FROM transactions WHERE realized_pnl IS NOT NULL"
                        )
                    ),
                    Decimal(0),
                )
            )
        quote_delta = Decimal(0)
        base_net: dict[str, Decimal] = defaultdict(Decimal)
        for v in VENUES:
            vorders = self.sim.orders(v)
            a.orders_journal[v] = len(jorders[v])
            a.orders_venue[v] = len(vorders)
            a.orders_at_venue_not_in_journal[v] = [
                o["client_order_id"]
                for o in vorders
                if o["client_order_id"].removeprefix("t-") not in jorders[v]
            ]
            final_at_venue = {
                o["client_order_id"].removeprefix("t-"): o["status"]
                for o in vorders
                if o["status"] not in ("NEW", "PARTIALLY_FILLED", "open")
            }
            a.journal_status_not_final[v] = [
                f"{cid} journal {st} venue {final_at_venue.get(cid, 'absent')}"
                for cid, st in jstatus[v].items()
                if st in ("pending_new", "new", "open", "partially_filled", "unknown")
            ]
            a.orders_open_at_venue[v] = [
                o["client_order_id"]
                for o in vorders
                if o["status"] in ("NEW", "PARTIALLY_FILLED", "open")
            ]
            vfills = {f["trade_id"] for f in self.sim.fills(v)}
            ids = [f[0] for f in jfills[v]]
            seen: set[str] = set()
            a.fills_duplicated[v] = sorted({i for i in ids if i in seen or seen.add(i)})
            a.fills_venue[v] = len(vfills)
            a.fills_journal[v] = len(ids)
            a.fills_lost[v] = sorted(vfills - set(ids))
            a.fills_extra[v] = sorted(set(ids) - vfills)
            # Balance changes the journal's fills imply (each trade id once).
            implied: dict[str, Decimal] = defaultdict(Decimal)
            done: set[str] = set()
            for trade_id, symbol, side, qty, quote_qty, fee, fee_asset in jfills[v]:
                if trade_id in done:
                    continue
                done.add(trade_id)
                base, quote = symbol.split("/")
                sign = 1 if side.lower() == "buy" else -1
                implied[base] += sign * Decimal(qty)
                implied[quote] -= sign * Decimal(quote_qty)
                if fee_asset:
                    implied[fee_asset] -= Decimal(fee)
            now = self.sim.balances(v)
            deltas: dict[str, str] = {}
            for asset in sorted(set(now) | set(start_bal[v]) | set(implied)):
                f0, l0 = start_bal[v].get(asset, (Decimal(0), Decimal(0)))
                f1, l1 = now.get(asset, (Decimal(0), Decimal(0)))
                d = (f1 + l1) - (f0 + l0)
                if d or implied[asset]:
                    deltas[asset] = str(d)
                if d != implied[asset]:
                    a.balance_mismatches.append(
                        f"{v} {asset}: venue {d} vs journal fills {implied[asset]}"
                    )
                if asset == "USDT":
                    quote_delta += d
                else:
                    base_net[asset] += d
            a.balance_deltas[v] = deltas
        # PnL per the venues: the quote change plus any net base change valued at the
        # last mid (zero when every arbitrage ended flat).
        value = quote_delta
        valued: list[str] = []
        for asset, d in base_net.items():
            if d:
                mid = self.mid(asset)
                value += d * mid
                valued.append(f"{asset} {d} at {mid}")
        a.pnl_venue = str(value)
        if valued:
            a.pnl_venue_note = "(net base valued at the last mid: " + ", ".join(valued) + ")"
        return a

    def mid(self, asset: str) -> Decimal:
        assert self.sim is not None
        b = self.sim.truth_book("mexc", f"{asset}USDT", 1)
        if not b or not b["bids"] or not b["asks"]:
            return Decimal(0)
        return (Decimal(b["bids"][0][0]) + Decimal(b["asks"][0][0])) / 2


# --- soak -------------------------------------------------------------------------------


def soak(
    *,
    minutes: float,
    symbols: int,
    seed: int,
    workdir: Path,
    sample_s: float = 30.0,
    update_rate_hz: float = 50.0,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
) -> dict[str, Any]:
    """The engine on ``symbols`` symbols for ``minutes`` with no faults; samples RSS,
    book lag (the engine's decision book age and the oldest book) and tick-to-trade."""
    workdir.mkdir(parents=True, exist_ok=True)
    for p in (
        "journal.sqlite",  # (where an older version journaled live runs)
        "live/journal.sqlite",
        "live/journal.sqlite-wal",
        "live/journal.sqlite-shm",
        "engine.log",
        "engine.out",
        "engine.json",
    ):
        with contextlib.suppress(FileNotFoundError):
            (workdir / p).unlink()
    syms = symbols_for(symbols)
    sim = Simulator(
        {
            "seed": seed,
            "symbols": syms,
            "update_rate_hz": update_rate_hz,
            "opportunity_rate_per_min": 120.0,
        }
    ).start()
    samples: list[dict[str, Any]] = []
    engine: EngineProcess | None = None
    try:
        env = engine_env(sim, workdir, syms)
        # A soak watches steady state: the default staleness and kill switches apply.
        for k in (
            "ARB__MARKET_DATA__STALENESS_MS",
            "ARB__MARKET_DATA__RECONNECT_AFTER_STALE_MS",
            "ARB__RISK__KILL_SWITCHES__RESYNCS_PER_MINUTE",
            "ARB__RISK__KILL_SWITCHES__CONSECUTIVE_HEDGE_FAILURES",
        ):
            env.pop(k)
        engine = EngineProcess(env, workdir)
        engine.wait_ready(120)
        t0 = time.monotonic()
        while True:
            el = time.monotonic() - t0
            snap = engine.snapshot()
            if snap is not None:
                ttt = snap["stats"]["tick_to_trade"]
                ages = [
                    b.get("age_ms") or 0
                    for s in snap["symbols"].values()
                    for b in s["venues"].values()
                ]
                valid = sum(
                    1
                    for s in snap["symbols"].values()
                    for b in s["venues"].values()
                    if b.get("valid")
                )
                samples.append(
                    {
                        "t_s": round(el, 1),
                        "rss_kb": engine.rss_kb(),
                        "books_valid": valid,
                        "books": len(ages),
                        "book_age_ms_max": max(ages) if ages else None,
                        "book_age_ms_median": statistics.median(ages) if ages else None,
                        "decision_book_age": snap["stats"]["decision_book_age"],
                        "tick_to_trade": ttt,
                        "book_changes": snap["stats"]["book_changes"],
                        "updates": sum(
                            int(b.get("updates") or 0)
                            for s in snap["symbols"].values()
                            for b in s["venues"].values()
                        ),
                        "resyncs": sum(
                            int(b.get("resyncs") or 0)
                            for s in snap["symbols"].values()
                            for b in s["venues"].values()
                        ),
                    }
                )
                log(
                    f"[soak {el:.0f}s] rss {samples[-1]['rss_kb']} KiB, valid "
                    f"{valid}/{len(ages)}, ttt p50 {ttt['p50_us']} us over {ttt['count']}"
                )
            if el >= minutes * 60:
                break
            time.sleep(min(sample_s, max(0.1, minutes * 60 - el)))
        code = engine.stop()
        final = samples[-1] if samples else {}
    finally:
        if engine is not None and engine.alive():
            engine.kill9()
        sim.stop()
    out = soak_summary(samples, symbols, minutes, code, final)
    out["windows"] = journal_windows(live_journal(workdir / "journal.sqlite"))
    return out


def _pct(xs: list[int], q: float) -> int | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def journal_windows(journal: Path, frac: float = 0.2) -> dict[str, Any]:
    """Tick-to-trade (transactions) and book age at decision (opportunities) in the first
    and the last ``frac`` of the run, from the journal: the snapshot's histograms are
    cumulative, the journal has every sample with its time."""
    out: dict[str, Any] = {}
    with (
        contextlib.suppress(sqlite3.Error),
        sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as c,
    ):
        for name, sql in (
            (
                "tick_to_trade_us",
                "SELECT started_ms, tick_to_trade_us FROM transactions "
                "WHERE tick_to_trade_us IS NOT NULL",
            ),
            ("decision_book_age_ms", "SELECT t_ms, book_age_ms FROM opportunities"),
        ):
            rows = c.execute(sql).fetchall()
            if not rows:
                out[name] = None
                continue
            t0, t1 = min(r[0] for r in rows), max(r[0] for r in rows)
            span = max(1, t1 - t0)
            head = [r[1] for r in rows if r[0] <= t0 + frac * span]
            tail = [r[1] for r in rows if r[0] >= t1 - frac * span]
            out[name] = {
                "start": {"n": len(head), "p50": _pct(head, 0.5), "p99": _pct(head, 0.99)},
                "end": {"n": len(tail), "p50": _pct(tail, 0.5), "p99": _pct(tail, 0.99)},
            }
    return out


def soak_summary(
    samples: list[dict[str, Any]], symbols: int, minutes: float, code: int, final: dict[str, Any]
) -> dict[str, Any]:
    """Memory growth per hour (least squares over the samples after the first minute,
    when the books and buffers have reached their size), and start vs. end figures."""
    warm = [s for s in samples if s["t_s"] >= 60 and s["rss_kb"]] or samples
    slope = None
    if len(warm) >= 2:
        xs = [s["t_s"] for s in warm]
        ys = [s["rss_kb"] for s in warm]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        den = sum((x - mx) ** 2 for x in xs)
        if den:
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den
    first, last = (samples[0], samples[-1]) if samples else ({}, {})
    dur = (last.get("t_s") or 0) - (first.get("t_s") or 0)
    return {
        "symbols": symbols,
        "minutes": minutes,
        "exit_code": code,
        "samples": len(samples),
        "rss_kb_start": first.get("rss_kb"),
        "rss_kb_after_warmup": warm[0].get("rss_kb") if warm else None,
        "rss_kb_end": last.get("rss_kb"),
        "rss_growth_kb_per_hour": None if slope is None else round(slope * 3600),
        "book_updates_per_s": round(
            ((last.get("updates") or 0) - (first.get("updates") or 0)) / dur
        )
        if dur
        else None,
        "start": first,
        "end": last,
        "final": final,
    }
