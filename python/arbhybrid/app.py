"""The main job: start the venues (the embedded simulator unless live), the engine, and
run until Ctrl-C or ``--duration``; then stop cleanly and print a summary."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from arbhybrid import reconcile, telemetry
from arbhybrid.config import LiveConfig, Settings
from arbhybrid.display import asset_amount, latency, quote_asset, startup_times
from arbhybrid.engine import RunningEngine, VenueEndpoints, simulator_endpoints
from arbhybrid.errors import ConfigError
from arbhybrid.errors import StateInUse as StateInUse  # its old home
from arbhybrid.rules import Plugins, default_rules, load_plugins
from arbhybrid.simulator import Simulator, config_from_settings
from arbhybrid.status import StatusServer, serve_status, state_file_for
from arbhybrid.types import EngineEvent, RecoveryView, Snapshot
from arbhybrid.view import make_view

log = logging.getLogger("arbhybrid")


def run(
    settings: Settings,
    *,
    config_path: str | Path,
    duration: float | None,
    live: bool,
    dry_run: bool,
    journal_path: str | None = None,
) -> int:
    """Runs the main job; returns the process exit code."""
    try:
        plugins = load_plugins(settings)
    except ConfigError as e:  # before anything starts: a usage error
        for problem in e.problems:
            print(problem, file=sys.stderr)
        return 2
    live = live or settings.mode == "live"
    if live and journal_path is None:
        refusal = old_live_journal(Path(settings.journal.path))
        if refusal:
            print(refusal, file=sys.stderr)
            return 2
    if live:
        missing = [n for n, ex in settings.exchanges.items() if ex.enabled and not ex.has_keys]
        if missing:
            print(
                f"live trading needs API keys for: {', '.join(missing)} "
                "(set them in .env; see .env.example)",
                file=sys.stderr,
            )
            return 2
    state = Path(settings.journal.path).parent
    try:
        lock = hold_state(state)
    except StateInUse as e:
        print(e, file=sys.stderr)
        return 2
    except OSError as e:
        print(f"cannot use the state directory {state}: {e}", file=sys.stderr)
        return 1
    try:
        return asyncio.run(
            _main(settings, plugins, Path(config_path), duration, live, dry_run, journal_path)
        )
    except KeyboardInterrupt:
        return 130
    finally:
        lock.close()


def hold_state(state: Path) -> Any:
    """Takes the state directory for this process (an flock on ``engine.lock``, released
    by the OS however the process ends): two engines on one directory would share its
    ``engine.json``, log and journal link. Returns the open lock file; raises
    ``StateInUse`` naming the running engine."""
    state.mkdir(parents=True, exist_ok=True)
    lock = (state / "engine.lock").open("a+", encoding="utf-8")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "an unknown process"
        lock.close()
        with contextlib.suppress(OSError, ValueError, KeyError):
            info = json.loads((state / "engine.json").read_text(encoding="utf-8"))
            holder = f"pid {info['pid']} at {info['url']}"
        raise StateInUse(
            f"an engine is already running on {state}: {holder} "
            "(python -m arbhybrid status shows it); stop it first, or give this one its "
            "own state with a configuration whose journal.path is elsewhere"
        ) from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"pid {os.getpid()}\n")
    lock.flush()
    return lock


def venue_endpoints(settings: Settings, sim: Simulator | None) -> dict[str, VenueEndpoints]:
    """Each enabled venue's endpoints by name: the simulator's instances, or the
    configured URLs and keys."""
    if sim is not None:
        return simulator_endpoints(sim)
    return {
        name: VenueEndpoints(
            ex.rest_url,
            ex.ws_url,
            ex.api_key.get_secret_value(),
            ex.api_secret.get_secret_value(),
        )
        for name, ex in settings.exchanges.enabled()
    }


#: The words of the engine's refusal of a journal that is not its own (Rust
#: ``journal::REFUSED``): that start-up failure is a usage error, exit status 2.
JOURNAL_REFUSED = "refusing to use it for this engine"


def live_journal(configured: Path) -> Path:
    """The live journal: one file under the state directory (``journal.path``'s folder),
    so live recovery continues across live runs and never reads a simulator session's
    journal (``journal.path`` itself links to the latest simulator session)."""
    return configured.parent / "live" / "journal.sqlite"


def old_live_journal(configured: Path) -> str | None:
    """Why a live run must not start, if ``journal.path`` is a journal file (not the
    link to a simulator session) and there is no live journal yet: an older version
    journaled live runs there, and starting a new live journal would leave its
    unfinished transactions to nobody."""
    live = live_journal(configured)
    if configured.is_symlink() or not configured.is_file() or live.exists():
        return None
    return (
        f"journal {configured}: refusing to start live: a journal file where live runs no "
        "longer write (an older "
        f"version's live journal?); live runs keep theirs in {live}. Finish its unfinished "
        "transactions by hand (SELECT * FROM transactions WHERE outcome IS NULL), then move "
        "it aside; or, if it is a simulator journal, delete it or point journal.path elsewhere"
    )


def sim_journal(configured: Path) -> Path:
    """A fresh journal for a simulator session: the simulator is a new venue each run
    (its trade ids start over), so its trades are not mixed with another session's.
    ``configured`` (``journal.path``) is pointed at it by a symlink, for ``report`` and
    ``history``, unless it is a real journal (a live one), which is never replaced."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path = configured.parent / "sim" / f"{stamp}-{os.getpid()}.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    if configured.is_symlink() or not configured.exists():
        tmp = configured.with_name(configured.name + ".tmp-link")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(path.resolve())
        tmp.replace(configured)
    return path


class RunStats:
    """Logs the engine's events and keeps the halts for the summary (the counts come
    from the engine's snapshot)."""

    def __init__(self) -> None:
        self.halts: list[str] = []

    def on_events(self, batch: list[EngineEvent]) -> None:
        for ev in batch:
            if ev["type"] == "opportunity":
                log.info(
                    "opportunity %s %s buy %s sell %s qty %s edge %s bps: %s",
                    ev["id"],
                    ev["symbol"],
                    ev["buy"],
                    ev["sell"],
                    ev["qty"],
                    ev["edge_bps"],
                    ev["decision"],
                )
            elif ev["type"] == "transaction":
                log.info(
                    "transaction %s %s %s pnl %s fees %s tick-to-trade %s us",
                    ev["tx_id"],
                    ev["symbol"],
                    ev["outcome"],
                    ev["realized_pnl"],
                    ev["fees_quote"],
                    ev["tick_to_trade_us"],
                )
            elif ev["type"] == "halted":
                self.halts.append(ev["reason"])
                log.critical("trading halted: %s", ev["reason"])


def recovery_line(rec: RecoveryView | None) -> str:
    """What start-up recovery did, or in a dry run what it would have done."""
    if rec is None:
        return "nothing to do"
    if rec.get("dry_run"):
        return "dry run, nothing sent: " + ("; ".join(rec.get("would", [])) or "nothing to do")
    txs = ", ".join(f"tx {t[0]} {t[1]} residual {t[2]} {t[3]}" for t in rec.get("transactions", []))
    return (
        f"canceled {rec.get('canceled_orders', 0)} orders, adopted "
        f"{rec.get('adopted_fills', 0)} fills" + (f"; {txs}" if txs else "")
    )


def log_recovery(rec: RecoveryView | None) -> None:
    if rec is None:
        return
    log.info("start-up recovery: %s", recovery_line(rec))
    for w in rec.get("would", []):
        log.warning("dry run: recovery %s", w)
    for e in rec.get("errors", []):
        log.error("start-up recovery: %s", e)


def summary(snap: Snapshot, stats: RunStats, quote: str | None = None) -> str:
    """What the run did, for people: amounts in ``quote`` at its precision."""
    dry_run = bool(snap.get("dry_run"))
    st = snap["stats"]
    lines = [
        "arbhybrid summary (dry run: no order sent)" if dry_run else "arbhybrid summary",
        f"  opportunities seen:   {st['opportunities_detected']} "
        f"(vetoed by risk {st['opportunities_vetoed']}, vanished {st['opportunities_vanished']})",
        f"  opportunities sent:   none ({st['opportunities_detected']} detected, not sent: dry run)"
        if dry_run
        else f"  opportunities taken:  {st['opportunities_taken']}",
        "  transactions:         "
        + (", ".join(f"{k} {v}" for k, v in sorted(st["outcomes"].items())) or "none"),
        f"  realized PnL:         {asset_amount(st['pnl'], quote)} "
        f"(fees {asset_amount(st['fees'], quote)})",
        f"  tick-to-trade:        {latency(st['tick_to_trade'])}",
        "  errors by class:      "
        + (", ".join(f"{k} {v}" for k, v in sorted(st["errors"].items())) or "none"),
        f"  start-up:             {startup_times(snap['startup_ms'])}",
        f"  recovery:             {recovery_line(snap['startup_ms'].get('recovery'))}",
    ]
    if stats.halts:
        lines.append(f"  halts:                {'; '.join(stats.halts)}")
    return "\n".join(lines)


async def _main(
    settings: Settings,
    plugins: Plugins,
    config_path: Path,
    duration: float | None,
    live: bool,
    dry_run: bool,
    journal_path: str | None,
) -> int:
    t0 = time.perf_counter()
    tel = telemetry.setup(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    quote = quote_asset(settings.strategy.symbols)
    view = make_view(quote=quote)
    view.start()
    sim: Simulator | None = None
    start_balances = None
    run_started_ms = 0
    if not live:
        view.progress("starting the embedded simulator")
        sim = Simulator(config_from_settings(settings)).start()
        start_balances = reconcile.balances(sim)
        run_started_ms = int(time.time() * 1000)
        if journal_path is None:
            journal_path = str(sim_journal(Path(settings.journal.path)))
        log.info("embedded simulator: %s", sim.endpoints)
    else:
        journal_path = journal_path or str(live_journal(Path(settings.journal.path)))
    session = Path(journal_path).stem if sim is not None and journal_path else None
    endpoints = venue_endpoints(settings, sim)
    stats = RunStats()
    engine = None
    status_server: StatusServer | None = None

    def on_events(batch: list[EngineEvent]) -> None:
        stats.on_events(batch)
        view.events(batch)
        for hook in plugins.hooks:
            for ev in batch:
                try:
                    hook(ev)
                except Exception:
                    log.exception("python hook %s raised; the run goes on", hook)

    try:
        try:
            view.progress(f"connecting to {', '.join(endpoints)}, loading symbols and fees")
            engine = await RunningEngine.start(
                settings,
                endpoints,
                on_events=on_events,
                journal_path=journal_path,
                dry_run=dry_run,
                mode="sim" if sim is not None else "live",
                session=session,
            )
        except RuntimeError as e:
            view.close(None)
            # Not through the logger, so scrubbed here: a venue's error can echo a key.
            print(f"start-up failed: {telemetry.scrub_secrets(str(e))}", file=sys.stderr)
            return 2 if JOURNAL_REFUSED in str(e) else 1
        log_recovery(engine.snapshot()["startup_ms"].get("recovery"))
        view.progress("venues ready; books syncing")
        # Loopback status endpoint for `python -m arbhybrid status` (see status.py).
        status_server = await serve_status(
            engine.snapshot,
            journal_path or settings.journal.path,
            state_file=state_file_for(settings.journal.path),  # beside the configured journal
        )
        log.info(
            "ready to trade in %.0f ms (metrics on port %s)",
            (time.perf_counter() - t0) * 1000,
            tel.metrics_port,
        )
        # Installed whatever the mode: the engine consults it only in `veto` mode, so
        # switching to `veto` while running takes effect at the next trade.
        engine.set_veto(default_rules(settings, plugins.rules))
        live_cfg = LiveConfig(config_path, settings)

        def on_config(new: Settings, changes: dict[str, Any]) -> None:
            assert engine is not None
            engine.apply(new)
            # The rules read the new thresholds (python_rules change only at restart).
            engine.set_veto(default_rules(new, plugins.rules))
            level = telemetry.apply(new)
            if "logging.level" in changes and level is not None:
                # Logged at the new level itself: it is written only if both the Python
                # logger and the Rust ring logger now let it through.
                log.log(level, "logging.level %s in effect", new.logging.level)

        live_cfg.subscribe(on_config)
        watcher = asyncio.create_task(live_cfg.watch())
        deadline = None if duration is None else loop.time() + duration
        try:
            while not stop.is_set():
                timeout = 1.0 if deadline is None else max(0.0, min(1.0, deadline - loop.time()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout)
                view.update(engine.snapshot())
                if deadline is not None and loop.time() >= deadline:
                    break
        finally:
            watcher.cancel()
        view.progress("stopping: waiting for running transactions")
        await engine.shutdown()  # also checkpoints the journal: its file alone holds the run
        final = engine.snapshot()
        view.close(final)
        print(summary(final, stats, quote), flush=True)
        if sim is not None and start_balances is not None:
            # Every transaction accounted for against the venue's ground truth.
            rec = reconcile.reconcile(
                sim,
                journal_path or settings.journal.path,
                final["inventory"],
                start_balances,
                since_ms=run_started_ms,
            )
            print(rec, flush=True)
            print(f"journal: {journal_path}", flush=True)
            if not rec.ok:
                return 3
        return 0
    finally:
        if status_server is not None:
            status_server.close()
        if sim is not None:
            sim.stop()
        tel.shutdown()
