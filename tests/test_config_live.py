"""Runtime configuration updates in a running main job: a threshold edited in the config
file is applied to the engine and audited; an API key edit is refused until restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from arbhybrid.status import EngineNotRunning, query, state_file_for

REPO = Path(__file__).resolve().parents[1]


def _start_job(tmp_path: Path, text: str, duration: int, extra_env: dict[str, str]) -> tuple:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(text)
    log = tmp_path / "arbhybrid.log"
    journal = tmp_path / "journal.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARB", "MEXC", "GATEIO"))}
    env.update({"ARB__JOURNAL__PATH": str(journal), "ARB__LOGGING__FILE": str(log), **extra_env})
    with (tmp_path / "out.txt").open("w") as out:
        p = subprocess.Popen(
            [sys.executable, "-m", "arbhybrid", "--config", str(cfg), "--duration", str(duration)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return p, cfg, log, state_file_for(journal)


def _first_status(state: Path, deadline: float, tmp_path: Path) -> dict:
    """The running job's first status answer (it serves one once the engine started)."""
    while time.monotonic() < deadline:
        try:
            return query(state).status
        except EngineNotRunning:
            time.sleep(0.2)
    raise AssertionError((tmp_path / "out.txt").read_text())


def test_running_job_applies_threshold_and_refuses_key_edit(tmp_path: Path) -> None:
    text = (REPO / "config.yaml").read_text()
    assert "min_edge_bps: 5 " in text
    p, cfg, log, state = _start_job(tmp_path, text, 20, {"MEXC_API_KEY": "key-before-edit"})
    try:
        deadline = time.monotonic() + 60
        snap = _first_status(state, deadline, tmp_path)
        assert snap["snapshot"]["strategy"]["min_edge_bps"] == "5"

        cfg.write_text(
            text.replace("min_edge_bps: 5 ", "min_edge_bps: 9 ").replace(
                "${MEXC_API_KEY:-}", "edited-key-not-allowed"
            )
        )
        applied = None
        while time.monotonic() < deadline:
            body = query(state).status
            if body["snapshot"]["strategy"]["min_edge_bps"] == "9":
                applied = body
                break
            time.sleep(0.2)
        assert applied is not None, "the new threshold never reached the engine"
    finally:
        p.wait(timeout=120)
    assert p.returncode == 0, (tmp_path / "out.txt").read_text()
    messages = [json.loads(line).get("msg", "") for line in log.read_text().splitlines()]
    assert "config change strategy.min_edge_bps: 5 -> 9" in messages
    assert any("exchanges.mexc.api_key refused" in m and "restart" in m for m in messages)
    everything = log.read_text() + (tmp_path / "out.txt").read_text()
    assert "edited-key-not-allowed" not in everything
    assert "key-before-edit" not in everything


def test_running_job_switches_veto_alerts_and_log_level_and_refuses_mode(tmp_path: Path) -> None:
    text = (REPO / "config.yaml").read_text()
    for s in ("python_risk_mode: notify", "alerts: {}", "level: ${ARB_LOG_LEVEL:-INFO}"):
        assert s in text, s
    assert "mode: ${ARB_MODE:-sim}" in text
    # logging_throughput (capacity in messages per second) never fires with a minimum of
    # 0, and fires in every second with logging once the minimum is 10^12; opportunities
    # (each logged) come every second or so.
    start = text.replace("alerts: {}", "alerts: {logging_min_msgs_per_s: 0}")
    p, cfg, log, state = _start_job(
        tmp_path,
        start,
        40,
        {"ARB__SIMULATOR__OPPORTUNITY_RATE_PER_MIN": "120"},
    )
    try:
        deadline = time.monotonic() + 80
        body = _first_status(state, deadline, tmp_path)
        assert body["snapshot"]["strategy"]["python_risk_mode"] == "Notify"
        assert all(a["name"] != "logging_throughput" for a in body["alerts"]), body["alerts"]
        cfg.write_text(
            start.replace("python_risk_mode: notify", "python_risk_mode: veto")
            .replace("logging_min_msgs_per_s: 0}", "logging_min_msgs_per_s: 1000000000000}")
            .replace("level: ${ARB_LOG_LEVEL:-INFO}", "level: DEBUG")
            .replace("mode: ${ARB_MODE:-sim}", "mode: live")
        )
        vetoes = alert = False
        while time.monotonic() < deadline and not (vetoes and alert):
            try:
                body = query(state).status
            except EngineNotRunning:  # the job's duration is over
                break
            snap = body["snapshot"]
            if snap["strategy"]["python_risk_mode"] == "Veto":
                # Each trade now waits for the Python rules.
                vetoes = snap["stats"]["python_veto"]["count"] > 0
            alert = alert or any(a["name"] == "logging_throughput" for a in body["alerts"])
            time.sleep(0.2)
        assert vetoes, "veto mode switched on at runtime: no trade was put to the python rules"
        assert alert, "the new alert threshold never reached the alert engine"
    finally:
        p.wait(timeout=120)
    assert p.returncode == 0, (tmp_path / "out.txt").read_text()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    messages = [r.get("msg", "") for r in lines]
    assert "config change strategy.python_risk_mode: notify -> veto" in messages
    assert any("config change mode refused" in m and "restart" in m for m in messages)
    # Written at DEBUG: both the Python logger and the Rust ring logger let it through.
    assert "logging.level DEBUG in effect" in messages
