"""A panic in a task is seen and what it held is released: a transaction task that
panics (forced through a test hook) frees its symbol and pauses it, with a halt event, a
``tx_panic`` journal event and ``panics_total``; panic and start-up messages are scrubbed
of registered secrets."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

from arbhybrid import _native, telemetry
from arbhybrid.engine import RunningEngine
from arbhybrid.simulator import Simulator, config_from_settings
from tests.test_engine_acceptance import endpoints, settings_for_test


async def wait_until(what: str, cond: Any, limit_s: float = 60) -> None:
    """Polls ``cond`` (bounded, so a broken engine fails the test instead of hanging)."""
    deadline = time.monotonic() + limit_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {limit_s} s")
        await asyncio.sleep(0.1)


async def test_a_panicked_transaction_releases_and_pauses_its_symbol(tmp_path: Path) -> None:
    settings = settings_for_test()
    sim = Simulator(config_from_settings(settings)).start()
    events: list[dict[str, Any]] = []
    eps = endpoints(sim)
    journal = tmp_path / "journal.sqlite"
    engine = await RunningEngine.start(
        settings, eps, on_events=events.extend, journal_path=str(journal)
    )
    try:
        _native.Engine._panic_next_transaction()
        taken = lambda: engine.snapshot()["stats"]["opportunities_taken"] >= 1  # noqa: E731
        await wait_until("a trade is taken", taken)

        def panicked() -> list[str]:
            syms = engine.snapshot()["symbols"].items()
            return [s for s, v in syms if v["paused"] and not v["busy"]]

        # Before the fix the symbol stayed busy for ever and was never paused.
        await wait_until("the panicked symbol is released and paused", panicked, 20)
        (symbol,) = panicked()
        halts = [e for e in events if e["type"] == "halted"]
        assert any(symbol in e["reason"] and "panicked" in e["reason"] for e in halts), halts
        assert "panics_total{" in _native.metrics_text()
        # The other symbols keep trading: the engine is not halted as a whole.
        assert not engine.snapshot()["risk"]["halted"]
    finally:
        await engine.shutdown(timeout_s=30)
        sim.stop()
    with sqlite3.connect(journal) as c:
        kinds = [k for (k,) in c.execute("SELECT kind FROM events")]
    assert "tx_panic" in kinds


def test_scrub_secrets_masks_what_was_registered() -> None:
    _native.register_secret("sk-live-0123456789abcdef")
    assert telemetry.scrub_secrets("401: bad key sk-live-0123456789abcdef") == (
        "401: bad key **********"
    )


async def test_a_panicked_background_task_is_started_again(tmp_path: Path) -> None:
    """The health task panics (test hook) after a round: it is journaled and started
    again, so venue health keeps being checked. Before, it stayed dead: health froze at
    its last value and trading went on unchecked."""
    settings = settings_for_test().model_copy(update={"health_interval_s": 1})
    sim = Simulator(config_from_settings(settings)).start()
    eps = endpoints(sim)
    journal = tmp_path / "journal.sqlite"
    engine = await RunningEngine.start(settings, eps, journal_path=str(journal))

    def rounds() -> int:
        s = _native.histogram_summary("engine_health_rtt_seconds", {"venue": "mexc"})
        return s["count"]

    try:
        await wait_until("a health round", lambda: rounds() >= 1)
        _native.Engine._panic_next_health_check()
        before = rounds()
        # The panicking round records its figure, then panics; a live task records more.
        await wait_until("health checked again after the panic", lambda: rounds() >= before + 3)
        await wait_until(
            "venues healthy again",
            lambda: all(v["healthy"] for v in engine.snapshot()["venues"].values()),
        )
    finally:
        await engine.shutdown(timeout_s=30)
        sim.stop()
    with sqlite3.connect(journal) as c:
        details = [d for (d,) in c.execute("SELECT detail FROM events WHERE kind = 'task_panic'")]
    assert any("health" in d for d in details), details
