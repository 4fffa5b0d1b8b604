"""The main job's two guarded modes, as a user runs them: ``--dry-run`` detects and
journals opportunities on the embedded simulator but not one order reaches a venue (the
simulator's ground truth, read through its admin API while the run goes on, and the
run's own reconciliation); ``--live`` without API keys refuses at once, with exit code 2
and a message naming the venues, before anything starts or connects."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from arbhybrid import status

REPO = Path(__file__).resolve().parents[1]
VENUES = ("mexc", "gateio")


def clean_env(tmp_path: Path) -> dict[str, str]:
    """No ARB/MEXC/GATEIO variable of the caller's; journal and log in ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARB", "MEXC", "GATEIO"))}
    env["ARB__JOURNAL__PATH"] = str(tmp_path / "journal.sqlite")
    env["ARB__LOGGING__FILE"] = str(tmp_path / "arbhybrid.log")
    return env


def config_in(tmp_path: Path) -> Path:
    """The repository's config.yaml, copied where no ``.env`` (with real keys, on a
    developer's machine) sits beside it or in the working directory."""
    cfg = tmp_path / "config.yaml"
    shutil.copy(REPO / "config.yaml", cfg)
    return cfg


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_dry_run_detects_opportunities_and_sends_no_order(tmp_path: Path) -> None:
    cfg = config_in(tmp_path)
    env = clean_env(tmp_path)
    env["ARB__SIMULATOR__OPPORTUNITY_RATE_PER_MIN"] = "60"
    log = tmp_path / "arbhybrid.log"
    state = tmp_path / "engine.json"
    argv = ["run", "--dry-run", "--duration", "15", "--config", str(cfg)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "arbhybrid", *argv],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Running: opportunities detected, and the venues (ground truth) got no order.
        deadline = time.monotonic() + 60
        snap: dict[str, Any] = {}
        while time.monotonic() < deadline and proc.poll() is None:
            if state.exists():
                try:
                    snap = status.query(state).status["snapshot"]
                except status.EngineNotRunning:
                    snap = {}
                if snap.get("stats", {}).get("opportunities_detected", 0) >= 3:
                    break
            time.sleep(0.2)
        assert snap.get("stats", {}).get("opportunities_detected", 0) >= 3, snap.get("stats")
        admin = re.search(r"admin='(http://127\.0\.0\.1:\d+)'", log.read_text())
        assert admin, "the embedded simulator's admin address is not in the log"
        accounts = get(admin[1] + "/accounts")
        counters = get(admin[1] + "/counters")
        for v in VENUES:
            assert counters[v]["orders"] == 0, (v, counters[v])
            assert get(f"{admin[1]}/orders/{v}/{accounts[v]['api_key']}") == [], v
            assert get(f"{admin[1]}/fills/{v}/{accounts[v]['api_key']}") == [], v
        assert snap["stats"]["outcomes"] == {}, snap["stats"]

        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out + err
    seen = int(re.search(r"opportunities seen:\s+(\d+)", out)[1])  # type: ignore[index]
    assert seen >= 3, out
    assert "transactions:         none" in out, out
    assert "reconciliation: OK (0 transactions, 0 orders, 0 fills" in out, out
    # The journal has what was detected, each marked dry_run, and no order or fill.
    with sqlite3.connect(tmp_path / "journal.sqlite") as c:
        decisions = dict(c.execute("SELECT decision, COUNT(*) FROM opportunities GROUP BY 1"))
        orders = c.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
        fills = c.execute("SELECT COUNT(*) FROM fills").fetchone()[0]
    assert decisions.get("dry_run", 0) >= 3, decisions
    assert (orders, fills) == (0, 0)


def test_live_without_keys_refuses_before_anything_starts(tmp_path: Path) -> None:
    cfg = config_in(tmp_path)
    # Every venue URL points at a socket of ours: a connection attempt would show.
    trap = socket.create_server(("127.0.0.1", 0))
    trap.setblocking(False)
    url = f"127.0.0.1:{trap.getsockname()[1]}"
    env = clean_env(tmp_path)
    for v in ("MEXC", "GATEIO"):
        env[f"{v}_REST_URL"] = f"http://{url}"
        env[f"{v}_WS_URL"] = f"ws://{url}/ws"
    try:
        for keys, missing in (
            ({}, "mexc, gateio"),
            ({"MEXC_API_KEY": "k", "MEXC_API_SECRET": "s"}, "gateio"),
        ):
            r = subprocess.run(
                [sys.executable, "-m", "arbhybrid", "run", "--live", "--config", str(cfg)],
                cwd=tmp_path,
                env={**env, **keys},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert r.returncode == 2, r.stdout + r.stderr
            assert f"live trading needs API keys for: {missing}" in r.stderr, r.stderr
            assert r.stdout == "", r.stdout  # no progress line: nothing started
        try:
            trap.accept()
            connected = True
        except BlockingIOError:
            connected = False
        assert not connected, "the refused live run connected to a venue"
        # No journal, log, status state file or metrics were started.
        assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]
    finally:
        trap.close()
