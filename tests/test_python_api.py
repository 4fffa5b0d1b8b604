"""Issue 15 item 4: the package's Python face. ``help(arbhybrid)`` shows a curated API whose
names all resolve; the engine's snapshot, events and veto requests are checked against
their typed mirrors at the boundary (and the check can fail); what the main job prints
is for people: no ``None``, no raw dict, amounts at the asset's precision."""

from __future__ import annotations

import asyncio
import copy
import pydoc
import re
from pathlib import Path
from typing import Any

import pytest

import arbhybrid
from arbhybrid import display, types
from arbhybrid.app import RunStats, summary
from arbhybrid.view import status_line
from test_engine_acceptance import settings_for_test

CURATED = {
    "RunningEngine",
    "Settings",
    "load_config",
    "Simulator",
    "Snapshot",
    "EngineEvent",
    "VetoRequest",
    "ArbError",
    "ConfigError",
    "StartupError",
}


def test_all_names_resolve_and_help_shows_them() -> None:
    assert set(arbhybrid.__all__) >= CURATED
    for name in arbhybrid.__all__:
        assert getattr(arbhybrid, name) is not None, name
    text = pydoc.render_doc(arbhybrid, renderer=pydoc.plaintext)
    for name in CURATED:
        assert name in text, name
    # Every exception the package exports derives from the one base.
    errors = [getattr(arbhybrid, n) for n in arbhybrid.__all__ if n.endswith(("Error", "InUse"))]
    errors += [arbhybrid.EngineNotRunning, arbhybrid.JournalNotFound, arbhybrid.NotAJournal]
    for e in errors:
        assert issubclass(e, arbhybrid.ArbError), e


def test_the_stub_and_the_marker_ship_in_the_package() -> None:
    pkg = Path(arbhybrid.__file__).parent
    assert (pkg / "_native.pyi").is_file()
    assert (pkg / "py.typed").is_file()


async def _real_run(tmp_path: Path, seconds: float) -> tuple[dict[str, Any], list[Any]]:
    """A fresh engine on the simulator: its first snapshot (before any trade) and events."""
    settings = settings_for_test()
    events: list[Any] = []
    with arbhybrid.Simulator(arbhybrid.simulator_config(settings)) as sim:
        endpoints = arbhybrid.simulator_endpoints(sim)
        engine = await arbhybrid.RunningEngine.start(
            settings, endpoints, on_events=events.extend, journal_path=str(tmp_path / "j")
        )
        try:
            first = dict(engine.snapshot())
            await asyncio.sleep(seconds)
        finally:
            await engine.shutdown()
    return first, events


async def test_the_boundary_checks_snapshots_and_events(tmp_path: Path) -> None:
    first, events = await _real_run(tmp_path, 6)
    assert events, "no engine event in 6 s"
    for ev in events:
        types.event_from_native(ev)  # what the engine sent passed the check already
    types.snapshot_from_native(first)
    # The mirror is exact: a key the engine added, or one it dropped, fails loudly.
    extra = copy.deepcopy(first)
    extra["stats"]["new_counter"] = 1
    with pytest.raises(arbhybrid.MalformedError, match="new_counter"):
        types.snapshot_from_native(extra)
    missing = copy.deepcopy(first)
    del missing["risk"]["daily_pnl"]
    with pytest.raises(arbhybrid.MalformedError, match="daily_pnl"):
        types.snapshot_from_native(missing)
    with pytest.raises(arbhybrid.MalformedError):
        types.event_from_native({**events[0], "type": "renamed"})
    with pytest.raises(arbhybrid.MalformedError):
        types.veto_request_from_native({"symbol": "BTC/USDT", "buy": "mexc"})

    # Printed for people, from that real first snapshot. Whether the engine has traded by
    # then depends on the simulator's first gap, so the line is checked for what the
    # snapshot says, and once more with the histogram as the engine reports it before
    # any trade (empty: count 0, percentiles None).
    snap = types.snapshot_from_native(first)
    line = status_line(snap, "USDT")
    assert "None" not in line, line
    if snap["stats"]["tick_to_trade"]["count"]:
        assert re.search(r"t2t p50 [\d.]+ [µm]?s p99", line), line
    else:
        assert "t2t —" in line, line
    before = copy.deepcopy(first)
    before["stats"]["tick_to_trade"] = {"count": 0, "p50_us": None, "p99_us": None, "max_us": None}
    empty = types.snapshot_from_native(before)
    line = status_line(empty, "USDT")
    assert "t2t —" in line, line
    assert "None" not in line, line
    text = summary(empty, RunStats(), "USDT")
    assert re.search(r"start-up: +venues \d+ ms, engine \d+ ms\n", text), text
    assert "tick-to-trade:        —" in text, text
    assert "{" not in text and "None" not in text, text  # no dict, no repr


def test_amounts_are_shown_at_the_assets_precision() -> None:
    # The engine's PnL string has 11 decimals; a person sees the quote's six.
    assert display.asset_amount("0.63126743229", "USDT") == "0.631267 USDT"
    assert display.asset_amount("-1.5", "USDT") == "-1.500000 USDT"
    assert display.asset_amount("0.000123456789", "BTC") == "0.00012346 BTC"
    assert display.asset_amount("2.5", None) == "2.50000000"
    assert display.quote_asset(["BTC/USDT", "ETH/USDT"]) == "USDT"
    assert display.quote_asset(["BTC/USDT", "ETH/BTC"]) is None
    h: types.LatencyView = {"count": 3, "p50_us": 851, "p99_us": 1400, "max_us": 1400}
    assert display.latency(h) == "p50 851 µs, p99 1.4 ms over 3"
    assert display.latency({"count": 0, "p50_us": None, "p99_us": None, "max_us": None}) == "—"
