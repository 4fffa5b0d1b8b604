"""One campaign run: the simulator in this process, the engine trading it, faults at
random (kill -9 at scheduled moments) for the fault phase, a quiet stretch and a clean
stop, then the accounting and the report."""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

from arbhybrid.campaign.accounting import account
from arbhybrid.campaign.faults import WEIGHTS, Faults
from arbhybrid.campaign.process import clear_workdir, dropped_at_once, panics, symbols_for
from arbhybrid.campaign.report import Report
from arbhybrid.simulator import Simulator
from arbhybrid.venues import VENUES


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

    def run(self) -> Report:
        t_start = time.monotonic()
        clear_workdir(self.workdir)
        sim = Simulator(
            {
                "seed": self.seed,
                "symbols": self.symbols,
                "update_rate_hz": 30.0,
                "opportunity_rate_per_min": 120.0,
            }
        ).start()
        f = Faults(sim, self.symbols, self.rng, self.workdir, self.log)
        try:
            start_bal = {v: sim.balances(v) for v in VENUES}
            f.start_engine()
            self.log(f"engine ready (pid {f.engine.pid if f.engine else '?'})")
            f.settle(60)
            self.fault_phase(f)
            # A last quiet stretch, then a clean stop: running transactions finish.
            sim.clear_faults()
            for v in VENUES:
                sim.inject_fault(v, "resume")
            f.settle()
            assert f.engine is not None
            code = f.engine.stop()
            if code != 0:
                f.findings.append(f"clean stop exited with {code}: {f.engine.tail(2000)}")
            acc = account(sim, f.journal, start_bal)
        finally:
            if f.engine is not None and f.engine.alive():
                f.engine.kill9()
            sim.stop()
        report = Report(
            command=self.command,
            minutes=self.minutes,
            symbols=len(self.symbols),
            seed=self.seed,
            kinds=f.kinds,
            accounting=acc,
            engine_runs=f.engine_runs,
            panics=panics(self.workdir),
            findings=f.findings,
        )
        for v in VENUES:
            for row in acc.journal_status_not_final.get(v, []):
                f.findings.append(f"journal order row left in flight ({v}): {row}")
        for tx in acc.positions_left:
            f.findings.append(f"position left by a transaction closed flat: {tx}")
        for tx in acc.hedge_failed:
            f.findings.append(f"hedge failed, residual left: {tx}")
        dropped = dropped_at_once(self.workdir, len(self.symbols))
        if dropped:
            f.findings.append(
                f"{len(dropped)} fresh feed connections dropped at once as 'every book "
                f"silent' (first: {'; '.join(dropped[:3])})"
            )
        f.kinds["disconnect"].notes.add(
            f"{f.connections_closed} WebSocket connections closed in all"
        )
        for k, n in sorted(f.recovery_totals.items()):
            f.kinds["kill_9"].notes.add(f"{k}: {n}")
        report.wall_s = time.monotonic() - t_start
        return report

    def fault_phase(self, f: Faults) -> None:
        """Faults drawn by weight (each kind at most ``per_kind_limit`` times) for
        ``minutes``, with the kill -9s at random moments in between."""
        duration = self.minutes * 60
        kill_at = sorted(self.rng.uniform(0.05, 0.9) * duration for _ in range(self.kills))
        actions = list(WEIGHTS)
        weights = [WEIGHTS[k] for k in actions]
        t0 = time.monotonic()
        last_log = t0
        while True:
            el = time.monotonic() - t0
            if kill_at and el >= kill_at[0]:
                kill_at.pop(0)
                f.act_kill()
                continue
            if el >= duration and not kill_at:
                break
            if f.engine is None or not f.engine.alive():
                f.findings.append(
                    f"engine exited on its own: {f.engine.tail(2000) if f.engine else ''}"
                )
                f.start_engine()
                continue
            choices = [
                (a, w)
                for a, w in zip(actions, weights, strict=True)
                if self.per_kind_limit is None or f.kinds[a].actions < self.per_kind_limit
            ]
            if not choices:
                if kill_at:
                    time.sleep(0.2)
                    kill_at = [time.monotonic() - t0, *kill_at[1:]]
                    continue
                break
            kind = self.rng.choices([a for a, _ in choices], [w for _, w in choices])[0]
            f.act(kind, self.rng.choice(VENUES))
            if time.monotonic() - last_log > 30:
                last_log = time.monotonic()
                done = ", ".join(f"{k} {s.injected}" for k, s in f.kinds.items() if s.actions)
                self.log(f"[{el:.0f}s] injected: {done}")
