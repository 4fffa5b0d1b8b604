"""`veto` mode against the simulator on loopback: the installed rule sees every trade
before it is sent, typed as :class:`arbhybrid.types.VetoRequest`; a rule that approves
lets it go, one that raises refuses it, and one that answers after the engine's 1 s
timeout refuses it too (the rule is called directly on an engine thread, so the answer
is already there when the engine looks at it: lateness must still refuse)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from arbhybrid.engine import RunningEngine, VetoRule
from arbhybrid.simulator import Simulator, config_from_settings
from arbhybrid.types import VetoRequest
from tests.test_engine_acceptance import VENUES, endpoints, settings_for_test


async def run_with_rule(
    tmp_path: Path, rule: VetoRule, done: Any
) -> tuple[dict[str, Any], list[dict[str, Any]], Simulator]:
    """Runs the engine in veto mode with `rule` until `done(events)` (at most 60 s)."""
    settings = settings_for_test(python_risk_mode="veto")
    sim = Simulator(config_from_settings(settings)).start()
    events: list[dict[str, Any]] = []
    engine = await RunningEngine.start(
        settings,
        endpoints(sim),
        on_events=events.extend,
        journal_path=str(tmp_path / "journal.sqlite"),
    )
    try:
        engine.set_veto(rule)
        deadline = time.monotonic() + 60
        while not done(events) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    finally:
        await engine.shutdown(timeout_s=30)
    return engine.snapshot(), events, sim


def decisions(events: list[dict[str, Any]]) -> list[str]:
    return [e["decision"] for e in events if e["type"] == "opportunity"]


def assert_refused_and_nothing_sent(
    snap: dict[str, Any], events: list[dict[str, Any]], sim: Simulator
) -> None:
    assert "vetoed by python" in decisions(events), decisions(events)
    assert "taken" not in decisions(events), decisions(events)
    assert snap["stats"]["outcomes"] == {}
    assert all(not sim.orders(v) for v in VENUES)


async def test_an_approving_rule_sees_typed_requests_and_trades_go_out(tmp_path: Path) -> None:
    seen: list[VetoRequest] = []

    def approve(req: VetoRequest) -> bool:
        seen.append(req)
        return True

    snap, events, sim = await run_with_rule(
        tmp_path, approve, lambda evs: any(e["type"] == "transaction" for e in evs)
    )
    try:
        assert "taken" in decisions(events), decisions(events)
        assert seen, "no trade was put to the rule"
        for req in seen:
            assert sorted(req) == ["buy", "edge_bps", "notional", "qty", "sell", "symbol"]
            assert all(isinstance(v, str) for v in req.values()), req
            assert req["buy"] in VENUES and req["sell"] in VENUES and req["buy"] != req["sell"]
        assert snap["stats"]["python_veto"]["count"] >= len(seen)
        assert any(sim.orders(v) for v in VENUES)
    finally:
        sim.stop()


async def test_a_rule_that_raises_refuses_every_trade(tmp_path: Path) -> None:
    asked: list[VetoRequest] = []

    def broken(req: VetoRequest) -> bool:
        asked.append(req)
        raise RuntimeError("rule bug")

    snap, events, sim = await run_with_rule(tmp_path, broken, lambda evs: len(asked) >= 2)
    try:
        assert len(asked) >= 2
        assert_refused_and_nothing_sent(snap, events, sim)
    finally:
        sim.stop()


async def test_a_rule_that_answers_after_the_timeout_refuses(tmp_path: Path) -> None:
    asked: list[VetoRequest] = []

    def slow_yes(req: VetoRequest) -> bool:
        asked.append(req)
        time.sleep(1.2)  # past the engine's 1 s veto timeout, then approves
        return True

    snap, events, sim = await run_with_rule(
        tmp_path, slow_yes, lambda evs: "vetoed by python" in decisions(evs)
    )
    try:
        assert asked
        assert_refused_and_nothing_sent(snap, events, sim)
    finally:
        sim.stop()
