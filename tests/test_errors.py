"""Issue 15 item 4: every exception the package raises derives from ``arbhybrid.ArbError``
(start-up failures included), and keeps the builtin base callers caught before. Each
kind is raised through its real path, not constructed here."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

import arbhybrid
from arbhybrid import _native, journal, status
from arbhybrid.app import hold_state
from arbhybrid.browser import dump_dom
from arbhybrid.config import load_config
from arbhybrid.simulator import Simulator


def _arb(e: pytest.ExceptionInfo[BaseException], *builtins: type[BaseException]) -> None:
    assert isinstance(e.value, arbhybrid.ArbError), type(e.value).__mro__
    for b in builtins:
        assert isinstance(e.value, b), (type(e.value).__mro__, b)


def test_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("strategy: [not, a, mapping\n", encoding="utf-8")
    with pytest.raises(arbhybrid.ConfigError) as e:
        load_config(bad, environ={})
    _arb(e)


def test_journal_errors(tmp_path: Path) -> None:
    with pytest.raises(arbhybrid.JournalNotFound) as e, journal.open_journal(tmp_path / "none"):
        pass
    _arb(e, FileNotFoundError, arbhybrid.JournalError)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(arbhybrid.NotAJournal) as e2, journal.open_journal(junk):
        pass
    _arb(e2, arbhybrid.JournalError)


def test_state_in_use(tmp_path: Path) -> None:
    lock = hold_state(tmp_path)
    try:
        with pytest.raises(arbhybrid.StateInUse) as e:
            hold_state(tmp_path)  # a second holder of the same directory
        _arb(e, RuntimeError)
    finally:
        lock.close()


def test_engine_not_running(tmp_path: Path) -> None:
    with pytest.raises(arbhybrid.EngineNotRunning) as e:
        status.query(tmp_path / "engine.json")
    _arb(e, RuntimeError)


def test_browser_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho broken >&2\nexit 3\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("ARB_CHROMIUM", str(fake))
    with pytest.raises(arbhybrid.BrowserError) as e:
        dump_dom("about:blank", timeout_s=10)
    _arb(e, RuntimeError)


def test_native_bad_input_is_an_invalid_value_error() -> None:
    with pytest.raises(arbhybrid.InvalidValueError) as e:
        _native.Simulator("{not json")
    _arb(e, ValueError)
    with pytest.raises(arbhybrid.InvalidValueError) as e2:
        _native.client_order_id("arb", 1, "x")
    _arb(e2, ValueError)


def test_simulator_not_running_is_a_startup_error() -> None:
    with pytest.raises(arbhybrid.StartupError) as e:
        _ = Simulator().info
    _arb(e, RuntimeError)
    sim = _native.Simulator("{}")
    with pytest.raises(arbhybrid.StartupError) as e2:
        sim.balances("mexc", "key")
    _arb(e2, RuntimeError)


def test_port_in_use_is_a_resource_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(arbhybrid.ResourceError) as e:
            _native.start_metrics_server(s.getsockname()[1])
    _arb(e, OSError)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_venue_unreachable_is_a_network_error() -> None:
    port = _closed_port()
    client = _native.VenueClient(
        json.dumps(
            {
                "venue": "mexc",
                "rest_url": f"http://127.0.0.1:{port}",
                "ws_url": f"ws://127.0.0.1:{port}",
                "api_key": "k",
                "api_secret": "s",
            }
        )
    )
    with pytest.raises(arbhybrid.ArbError) as e:
        await client.server_time()
    assert isinstance(e.value, arbhybrid.NetworkError | arbhybrid.RequestTimeout), e.value


async def test_engine_start_up_failure_is_a_startup_error(tmp_path: Path) -> None:
    """The engine cannot reach its venues: the start-up failure (a bare RuntimeError
    before) is a StartupError, still a RuntimeError."""
    from arbhybrid.engine import RunningEngine, VenueEndpoints
    from test_engine_acceptance import settings_for_test

    port = _closed_port()
    ep = VenueEndpoints(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", "k", "s")
    with pytest.raises(arbhybrid.StartupError) as e:
        await RunningEngine.start(
            settings_for_test(), {"mexc": ep, "gateio": ep}, journal_path=str(tmp_path / "j")
        )
    _arb(e, RuntimeError)
    with pytest.raises(arbhybrid.InvalidValueError) as e2:
        await _native.start_engine("{}")
    _arb(e2, ValueError)
