"""The fault kinds and, per kind, its injection into the simulator while the engine
trades, how the engine's snapshot or journal shows it was detected, and the check that
it recovered (books valid again, every arbitrage closed, the journal agreeing with the
venue) with the time that took. ``kill_9`` is a fault too: the engine is killed with
SIGKILL and restarted, and its recovery is checked."""

from __future__ import annotations

import contextlib
import random
import sqlite3
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbhybrid.app import live_journal
from arbhybrid.campaign.process import STALE_MS, EngineProcess, engine_env
from arbhybrid.journal import JournalError, open_journal, order_with_outcome, transactions
from arbhybrid.reconcile import journal_id
from arbhybrid.simulator import Simulator
from arbhybrid.venues import VENUES
from arbhybrid.view import (
    all_valid,
    book_sum,
    errors,
    feed,
    open_arbitrages,
    private_stream,
    rest,
)

#: How long one fault may take to be detected and recovered from before it counts as
#: not recovered: more than the feed's longest reconnect backoff (30 s) plus a resync.
RECOVERY_TIMEOUT_S = 60.0
#: How long the journal may lag the venue once the engine has settled (its writer
#: commits in batches behind the order path) before a disagreement is a finding.
JOURNAL_LAG_S = 5.0

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

Snapshot = dict[str, Any]


def venue_symbol(venue: str, unified: str) -> str:
    base, quote = unified.split("/")
    return f"{base}{quote}" if venue == "mexc" else f"{base}_{quote}"


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


class Faults:
    """The faults acted out on one simulator and the engine trading it (restarted after
    each kill -9), with what each did (``kinds``) and every finding."""

    def __init__(
        self,
        sim: Simulator,
        symbols: list[str],
        rng: random.Random,
        workdir: Path,
        log: Callable[[str], None],
    ) -> None:
        self.sim = sim
        self.symbols = symbols
        self.rng = rng
        self.workdir = workdir
        self.log = log
        self.kinds: dict[str, KindStats] = {k: KindStats() for k in KINDS}
        self.findings: list[str] = []
        self.engine: EngineProcess | None = None
        self.engine_runs = 0
        self.connections_closed = 0
        self.recovery_totals: dict[str, int] = defaultdict(int)

    # -- plumbing

    @property
    def journal(self) -> Path:
        return live_journal(self.workdir / "journal.sqlite")

    def snap(self) -> Snapshot | None:
        assert self.engine is not None
        return self.engine.snapshot()

    def start_engine(self, *args: str) -> float:
        self.engine = EngineProcess(
            engine_env(self.sim, self.workdir, self.symbols), self.workdir, *args
        )
        self.engine_runs += 1
        return self.engine.wait_ready()

    def watch(
        self, pred: Callable[[Snapshot], bool], timeout: float = RECOVERY_TIMEOUT_S
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

    def act(self, kind: str, venue: str) -> None:
        """One action of ``kind`` (a key of ``WEIGHTS``) on ``venue``."""
        action: Callable[[str], None] = getattr(self, f"act_{kind}")
        action(venue)

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

            def reconnected(s: Snapshot, c0: int = c0) -> bool:
                return feed(s, venue, "connects") > c0 and all_valid(s, venue)

            ttr = self.watch(reconnected)
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

        def stale_seen(s: Snapshot) -> bool:
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
        outcomes: tuple[str, ...],
        count: int,
        **params: Any,
    ) -> None:
        """Detected: the errors of ``classes`` the engine reported, or the REST
        ``outcomes`` of ``venue`` it counted (what the client handled by itself: 429s
        waited out, 5xx retried, unknown outcomes resolved), whichever moved more."""
        before = self.snap()
        if before is None:
            return
        e0 = errors(before, *classes)
        r0 = rest(before, venue, *outcomes)
        seen = self.venue_order_ids()
        fid = self.inject(venue, fault, count=count, duration_ms=20000, **params)
        fired = self.wait_fired(fid, count, 20)
        t0 = time.monotonic()
        # Recovered: every arbitrage closed, the books valid again, and every order the
        # venues got meanwhile is in the journal with the venue's filled quantity.
        ttr = self.settle()
        after = self.snap() or before
        detected = max(errors(after, *classes) - e0, rest(after, venue, *outcomes) - r0)
        if ttr is not None and not self.orders_agree(seen):
            ttr = None
        self.record(kind, fired, detected, ttr and (time.monotonic() - t0))
        if fired and detected == 0:
            self.kinds[kind].unobservable = True
            self.kinds[kind].notes.add(
                "no counter in the engine's snapshot moves (neither its errors nor the "
                "venue's REST outcomes)"
            )

    def venue_order_ids(self) -> dict[str, set[str]]:
        """Every order id each venue holds now (as the venue names them)."""
        return {v: {str(o["client_order_id"]) for o in self.sim.orders(v)} for v in VENUES}

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

        def check(v: str, o: dict[str, Any]) -> str | None:
            row = self.journal_order(o["client_order_id"])
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

    def journal_order(self, venue_client_order_id: str) -> tuple[Any, Any, Any] | None:
        """(filled_qty, transaction outcome, residual_base) of one venue order in the
        journal; None if the journal has no such order (or cannot be read yet)."""
        with contextlib.suppress(sqlite3.Error, JournalError), open_journal(self.journal) as c:
            r = order_with_outcome(c, journal_id(venue_client_order_id))
            return None if r is None else (r["filled_qty"], r["outcome"], r["residual_base"])
        return None

    def act_rest_429(self, venue: str) -> None:
        self._request_fault(
            "rest_429",
            venue,
            "rest_rate_limit",
            ("rate_limit",),
            ("rate_limited",),
            self.rng.randint(2, 6),
            retry_after_secs=1,
        )

    def act_rest_5xx(self, venue: str) -> None:
        self._request_fault(
            "rest_5xx",
            venue,
            "rest_status",
            ("venue", "network"),
            ("server_errors",),
            self.rng.randint(1, 3),
            status=self.rng.choice([500, 502, 503]),
        )

    def act_apply_then_timeout(self, venue: str) -> None:
        self._request_fault(
            "apply_then_timeout",
            venue,
            "apply_then_timeout",
            ("timeout", "unknown_outcome"),
            ("unknown_resolved", "unknown_unresolved"),
            1,
        )

    def act_reject_without_apply(self, venue: str) -> None:
        self._request_fault(
            "reject_without_apply",
            venue,
            "reject_without_apply",
            ("venue", "network", "unknown_outcome"),
            ("server_errors",),
            1,
        )

    def act_partial_fill(self, venue: str) -> None:
        """One order filled only in part. Detected: the journal has exactly the venue's
        filled quantity for that order; recovered: its transaction is closed with no
        residual."""
        seen_all = self.venue_order_ids()
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
            row = self.journal_order(o["client_order_id"])
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

        def back(s: Snapshot) -> bool:
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
        """The transactions the journal has unfinished (none before it exists)."""
        if not self.journal.exists():
            return []
        with contextlib.suppress(sqlite3.Error, JournalError), open_journal(self.journal) as c:
            return [t.tx_id for t in transactions(c, outcome="open")]
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
