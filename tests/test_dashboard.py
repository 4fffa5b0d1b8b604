"""The live dashboard, drawn from real simulator runs: in-process through rich's Live on a
recording console, and the main job's own process on a pseudo-terminal."""

from __future__ import annotations

import asyncio
import io
import os
import pty
import re
import select
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console

from arbhybrid.dashboard import Dashboard, StderrCapture
from arbhybrid.engine import RunningEngine
from arbhybrid.simulator import Simulator, config_from_settings
from arbhybrid.view import PlainView, make_view
from test_engine_acceptance import endpoints, settings_for_test

REPO = Path(__file__).resolve().parents[1]
WIDTH = 170
# Escape sequences a terminal program writes: CSI (colours, cursor moves) and OSC.
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]")


def frame_text(dash: Dashboard, width: int = WIDTH) -> str:
    """The dashboard's current frame as plain text, as a terminal would show it."""
    dash.console.width = width  # the dashboard lays itself out for its console's width
    c = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    c.print(dash.render())
    return c.export_text()


def line_with(text: str, *needles: str) -> str:
    """The first line containing every needle (fails the test if there is none)."""
    for line in text.splitlines():
        if all(n in line for n in needles):
            return line
    raise AssertionError(f"no line with {needles!r} in:\n{text}")


async def test_dashboard_shows_books_edges_transactions_and_pnl_of_a_real_run(
    tmp_path: Path,
) -> None:
    settings = settings_for_test()
    live_out = io.StringIO()
    console = Console(
        record=True, width=WIDTH, height=80, file=live_out, force_terminal=True, color_system=None
    )
    dash = Dashboard(console, capture_stderr=False, alerts=False, refresh_per_second=8)
    events: list[dict[str, Any]] = []

    def on_events(batch: list[dict[str, Any]]) -> None:
        events.extend(batch)
        dash.events(batch)

    dash.start()
    dash.progress("starting the embedded simulator")
    sim = Simulator(config_from_settings(settings)).start()
    try:
        dash.progress("connecting to both venues")
        eps = endpoints(sim)
        engine = await RunningEngine.start(
            settings, eps, on_events=on_events, journal_path=str(tmp_path / "j.sqlite")
        )
        try:
            # Snapshots as the main job gives them, until two transactions were shown
            # (bounded: the test fails below if none came).
            for _ in range(60):
                dash.update(engine.snapshot())
                if sum(e["type"] == "transaction" for e in events) >= 2:
                    break
                await asyncio.sleep(0.5)
            live = engine.snapshot()  # books are live until shutdown stops the feeds
            dash.update(live)
            mid = frame_text(dash)
            # The narrow frame of the same live state: after shutdown the books stop
            # (and may already show "idle"), which is not what this checks.
            narrow = frame_text(dash, 80)
        finally:
            await engine.shutdown(timeout_s=30)
        final = engine.snapshot()
        dash.close(final)
    finally:
        sim.stop()

    txs = [e for e in events if e["type"] == "transaction"]
    assert txs, final["stats"]
    drawn = console.export_text()  # every frame Live drew
    # Start-up progress was on screen before the first snapshot.
    assert "start-up" in drawn
    assert "connecting to both venues" in drawn
    assert "Markets" in drawn

    # Every symbol, with both venues' best bid and ask and both edges of the snapshot on
    # its own row, and both books in sync.
    assert set(live["symbols"]) == set(settings.strategy.symbols)
    for symbol, s in live["symbols"].items():
        row = line_with(mid, symbol, "ms")
        for v in ("mexc", "gateio"):
            for side in ("bid", "ask"):
                assert s["venues"][v][side], (symbol, v, side)
                assert s["venues"][v][side] in row, (symbol, v, side, row)
        for edge in s["edge_bps"].values():
            assert edge in row, (symbol, edge, row)
        assert row.count("valid") == 2, row
    assert "trading" in mid
    # On an 80-column terminal every price and edge is still there in full.
    assert max(len(line) for line in narrow.splitlines()) <= 80
    for symbol, s in live["symbols"].items():
        row = line_with(narrow, symbol, "ok ")  # both books in sync, one column
        for v in ("mexc", "gateio"):
            assert s["venues"][v]["bid"] in row and s["venues"][v]["ask"] in row, row
        for edge in s["edge_bps"].values():
            assert edge in row, row

    frame = frame_text(dash)  # the final frame, after shutdown
    # The latest transaction, with its outcome and PnL, in the activity list.
    last = txs[-1]
    row = line_with(frame, f"tx {last['tx_id']}")
    assert last["symbol"] in row and last["outcome"] in row, row
    assert f"{Decimal(last['realized_pnl']):.6f}" in row, row
    # The run's realized PnL and fees, and the transaction count by outcome.
    st = final["stats"]
    line_with(frame, "realized PnL", f"{Decimal(st['pnl']):.6f}")
    line_with(frame, "fees", f"{Decimal(st['fees']):.6f}")
    line_with(frame, "PnL", f"{Decimal(st['pnl']):.4f}", "stopped")  # the header
    for outcome, n in st["outcomes"].items():
        assert f"{outcome} {n}" in line_with(frame, "outcomes")
    assert sum(st["outcomes"].values()) == len(txs)
    # Inventory per venue: each asset's change at both venues.
    for venue, assets in final["inventory"].items():
        for asset, delta in assets.items():
            assert delta in line_with(frame, f" {asset} "), (venue, asset)
    # Latency rows with their counts; venue health.
    ttt = st["tick_to_trade"]
    assert str(ttt["count"]) in line_with(frame, "tick-to-trade")
    for label in ("MEXC leg ack", "Gate leg ack"):
        line_with(frame, label)
    for label in ("MEXC", "Gate"):
        assert "closed" in line_with(frame, f" {label} ", "yes")


def test_alerts_and_halts_are_shown_and_cleared() -> None:
    dash = Dashboard(Console(file=io.StringIO()), capture_stderr=False, alerts=False)
    alert = {
        "name": "ws_stale",
        "severity": "warning",
        "firing": True,
        "value": 6.2,
        "threshold": 5.0,
        "labels": {"venue": "mexc"},
        "message": "mexc order book stale for 6.2 s",
    }
    dash.alert(alert)
    dash.events([{"type": "halted", "reason": "leg imbalance 250 USDT"}])
    text = frame_text(dash)
    assert "mexc order book stale for 6.2 s" in line_with(text, "ws_stale", "warning")
    assert "TRADING HALTED: leg imbalance 250 USDT" in text
    dash.alert({**alert, "firing": False})
    text = frame_text(dash)
    assert "no alert firing" in text
    assert "ws_stale cleared" in text


async def test_a_real_telemetry_alert_is_shown_while_firing_and_cleared() -> None:
    """The dashboard subscribes to telemetry's alerts itself (``start()`` on the loop)."""
    import json
    import time

    from arbhybrid import _native

    # Evaluate only when the test says so (as tests/test_telemetry_alerts.py does).
    _native.stop_alerts()
    _native.configure_logging(json.dumps({"level": "INFO", "console": False}))
    _native.start_alerts("{}", 3600.0)
    venue = {"venue": "dashboard_alert"}
    dash = Dashboard(
        Console(file=io.StringIO(), width=WIDTH, force_terminal=True), capture_stderr=False
    )
    dash.start()
    try:
        _native.gauge_set("ws_last_message_unix_seconds", time.time() - 30, venue)
        _native.evaluate_alerts()
        for _ in range(400):  # delivered on this loop: bounded wait
            if "ws_stale" in frame_text(dash) and "no alert firing" not in frame_text(dash):
                break
            await asyncio.sleep(0.01)
        text = frame_text(dash)
        line_with(text, "ws_stale", "warning")
        # The header counts what is firing (other tests in this process may have left
        # alerts of their own firing, e.g. a slow arbitrage cycle: at least this one).
        line_with(text, "arbhybrid", "ALERTS ")
        _native.gauge_set("ws_last_message_unix_seconds", time.time(), venue)
        _native.evaluate_alerts()
        for _ in range(400):
            if "ws_stale cleared" in frame_text(dash):
                break
            await asyncio.sleep(0.01)
        text = frame_text(dash)
        assert "ws_stale cleared" in text and "no alert firing" in text
    finally:
        dash.close(None)
        _native.stop_alerts()
        _native.configure_logging(json.dumps({"level": "INFO"}))


def test_rate_limits_are_shown_when_the_engine_reports_them() -> None:
    dash = Dashboard(Console(file=io.StringIO()), capture_stderr=False, alerts=False)
    venue = {"healthy": True, "breaker": "closed", "clock_offset_ms": 0, "requests": 10}
    snap = {
        "uptime_s": 1.0,
        "symbols": {},
        "venues": {
            "mexc": {**venue, "rate_limit": {"headroom": 0, "waits": 3, "venue_blocks": 1}},
            "gateio": {**venue, "rate_limit_headroom": 180},
        },
    }
    dash.update(snap)
    text = frame_text(dash)
    assert "rate limit" in line_with(text, "venue", "breaker")
    line_with(text, " MEXC ", "headroom 0 waited 3 venue said stop 1")
    line_with(text, " Gate ", "headroom 180")
    dash.update({**snap, "venues": {"mexc": venue, "gateio": venue}})
    assert "rate limit" not in line_with(frame_text(dash), "venue", "breaker")


def test_a_dry_run_says_not_sent_instead_of_taken() -> None:
    """The engine's snapshot says it is a dry run (``tests/test_cli_user.py`` runs one);
    the trading panel then says nothing was sent instead of counting "taken"."""
    dash = Dashboard(Console(file=io.StringIO()), capture_stderr=False, alerts=False)
    stats = {"opportunities_detected": 4, "opportunities_taken": 0}
    snap = {"uptime_s": 1.0, "symbols": {}, "venues": {}, "stats": stats}
    dash.update({**snap, "dry_run": True})
    line = line_with(frame_text(dash), "opportunities", "4 seen")
    assert "not sent: dry run" in line and "taken" not in line
    dash.update({**snap, "dry_run": False})
    assert "0 taken" in line_with(frame_text(dash), "opportunities", "4 seen")


def test_stderr_lines_are_captured_and_the_descriptor_restored() -> None:
    lines: list[str] = []
    before = os.fstat(2)
    cap = StderrCapture(lines.append)
    cap.start()
    try:
        os.write(2, b"first line\nsecond ")
        os.write(2, b"line\nno newline at the end")
    finally:
        cap.stop()
    assert lines == ["first line", "second line", "no newline at the end"]
    after = os.fstat(2)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)


def test_plain_lines_off_a_terminal() -> None:
    assert isinstance(make_view(tty=False), PlainView)
    assert isinstance(make_view(tty=True), Dashboard)


def run_on_pty(args: list[str], env: dict[str, str], limit_s: float = 90) -> tuple[int, str]:
    """Runs a command with a pseudo-terminal as stdin, stdout and stderr; returns its exit
    code and everything it wrote, escape sequences removed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        args, cwd=REPO, env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True
    )
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], limit_s)
            if not ready:
                raise AssertionError(f"{args} printed nothing for {limit_s} s")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    text = _ESCAPES.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r", "")
    return code, text


CRASHING_JOB = """
import os, time
from arbhybrid.dashboard import Dashboard
d = Dashboard(alerts=False)
d.start()
os.write(2, b"2026-01-01T00:00:00.000000Z INFO     routine: a routine line\\n")
os.write(2, b"2026-01-01T00:00:00.000001Z WARN     engine: the venue answered 429\\n")
os.write(2, b"thread 'tokio' panicked at engine.rs:1:1\\n")
time.sleep(0.5)
raise RuntimeError("the job died without closing its view")
"""


def test_a_job_that_dies_gives_the_terminal_back_with_its_errors(tmp_path: Path) -> None:
    code, text = run_on_pty(
        [sys.executable, "-c", CRASHING_JOB], {**os.environ, "COLUMNS": "120", "LINES": "40"}
    )
    assert code == 1
    # The traceback reached the terminal, after the dashboard gave it back.
    assert "RuntimeError: the job died without closing its view" in text
    tail = text.split("warnings and errors while the dashboard ran:", 1)[1]
    assert "WARN     engine: the venue answered 429" in tail
    assert "thread 'tokio' panicked at engine.rs:1:1" in tail
    assert "a routine line" not in tail  # routine lines stay in the panel (and the log file)


def test_main_job_on_a_pseudo_terminal_draws_the_dashboard(tmp_path: Path) -> None:
    """``python -m arbhybrid`` on a terminal: the dashboard, the engine's log lines kept
    inside it (none tears the display), then the summary."""
    env = {
        **os.environ,
        "COLUMNS": "160",
        "LINES": "60",
        "TERM": "xterm-256color",
        "ARB__JOURNAL__PATH": str(tmp_path / "journal.sqlite"),
        "ARB__LOGGING__FILE": str(tmp_path / "arbhybrid.log"),
    }
    code, text = run_on_pty([sys.executable, "-m", "arbhybrid", "--duration", "8"], env)
    assert code == 0, text[-3000:]
    for needle in ("Markets", "Venues", "Latency", "BTC/USDT", "ETH/USDT", "SOL/USDT"):
        assert needle in text, needle
    assert "arbhybrid summary" in text
    # The engine logs to stderr at INFO ("feed event ... connected"); on a terminal those
    # lines are in the dashboard's log panel, never at the start of a screen line.
    raw_log = re.compile(r"^\d{4}-\d\d-\d\dT\S+Z\s+INFO\b", re.MULTILINE)
    assert not raw_log.search(text), raw_log.search(text)
    assert "feed event" in text  # ... but they were shown (in the panel)
    # Everything still reached the log file.
    assert "feed event" in (tmp_path / "arbhybrid.log").read_text()
