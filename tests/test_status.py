"""``python -m arbhybrid status`` against a real main job (its own process, on the
embedded simulator): the loopback status endpoint, its state file, and what ``status``
prints while the engine runs and after it stopped."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from arbhybrid import status

REPO = Path(__file__).resolve().parents[1]
SYMBOLS = {"BTC/USDT", "ETH/USDT", "SOL/USDT"}


def arbhybrid(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "arbhybrid", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def wait_for_file(path: Path, proc: subprocess.Popen[str], limit_s: float = 60) -> None:
    """Polls until ``path`` exists (bounded, so a broken engine fails the test)."""
    deadline = time.monotonic() + limit_s
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"main job exited {proc.returncode}:\n{out}\n{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear")
        time.sleep(0.2)


def test_status_of_a_running_engine_and_after_it_stopped(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ARB__JOURNAL__PATH": str(tmp_path / "journal.sqlite"),
        "ARB__LOGGING__FILE": str(tmp_path / "arbhybrid.log"),
        # An alert that fires from the second evaluation on and never clears (any
        # memory slope is above -1e9 MiB/h), so the status's alerts have a known content.
        "ARB__METRICS__ALERTS__MEMORY_GROWTH_MB_PER_H": "-1000000000",
        "ARB__METRICS__ALERTS__MEMORY_MIN_SPAN_S": "0",
    }
    state = tmp_path / "engine.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "arbhybrid", "--duration", "20"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_file(state, proc)
        info = json.loads(state.read_text())
        assert info["pid"] == proc.pid
        assert info["url"] == f"http://127.0.0.1:{info['port']}"
        # The journal this engine writes: the configured one (or, for a simulator
        # session, its own journal, which the configured path links to).
        assert Path(info["journal"]).resolve() == (tmp_path / "journal.sqlite").resolve()

        # The raw answer: the engine's own snapshot, from the engine's process, with
        # the alerts firing in it (memory_growth, from the engine's second evaluation).
        deadline = time.monotonic() + 10  # evaluations are 1 s apart; the run is 20 s
        while True:
            r = arbhybrid("status", "--state", str(state), "--json")
            assert r.returncode == 0, r.stderr
            body = json.loads(r.stdout)
            if body["alerts"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert [(a["name"], a["labels"], a["firing"], a["severity"]) for a in body["alerts"]] == [
            ("memory_growth", {}, True, "WARNING")
        ], body["alerts"]
        assert body["pid"] == proc.pid
        snap = body["snapshot"]
        assert set(snap["symbols"]) == SYMBOLS
        assert set(snap["venues"]) == {"mexc", "gateio"}
        assert snap["uptime_s"] > 0

        # The operator's view: the dashboard's panels, one shot.
        r = arbhybrid("status", "--state", str(state))
        assert r.returncode == 0, r.stderr
        assert f"engine pid {proc.pid} at {info['url']}" in r.stdout
        for needle in ("Markets", "Venues", "Latency", "Trading", *SYMBOLS):
            assert needle in r.stdout, needle

        # The endpoint answers only what it knows, and only reads.
        with urllib.request.urlopen(info["url"] + "/health", timeout=5) as resp:
            assert json.loads(resp.read()) == {"ok": True}
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(info["url"] + "/nope", timeout=5)
        e.value.close()
        assert e.value.code == 404
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(
                urllib.request.Request(info["url"] + "/status", data=b"{}", method="POST"),
                timeout=5,
            )
        e.value.close()
        assert e.value.code == 405

        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
        assert "arbhybrid summary" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    # Stopped: the state file is gone and status says so.
    assert not state.exists()
    r = arbhybrid("status", "--state", str(state))
    assert r.returncode == 1
    assert f"no engine running: {state} does not exist" in r.stderr


def test_status_with_a_state_file_left_by_a_dead_engine(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    state = tmp_path / "engine.json"
    state.write_text(json.dumps({"pid": pid, "url": "http://127.0.0.1:9", "port": 9}))
    with pytest.raises(status.EngineNotRunning, match=f"process {pid} from .* has exited"):
        status.query(state)
    state.write_text("{not json")
    with pytest.raises(status.EngineNotRunning, match="not a valid engine state file"):
        status.query(state)


async def test_status_endpoint_in_process_answers_and_cleans_up(tmp_path: Path) -> None:
    """The server a main job starts, on its own: the snapshot callable's answer as JSON,
    a failing snapshot answered as an error (never raised into the loop), the state
    file removed on close."""
    calls = []

    def snapshot() -> dict[str, object]:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("engine is stopping")
        return {"uptime_s": 1.5, "symbols": {}}

    srv = await status.serve_status(snapshot, tmp_path / "j.sqlite", alerts=False)
    try:
        assert srv.state_file == tmp_path / "engine.json"

        def get() -> tuple[int, dict[str, object]]:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/status", timeout=5) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                with e:
                    return e.code, json.loads(e.read())

        code, body = await asyncio.to_thread(get)
        assert code == 200 and body["snapshot"] == {"uptime_s": 1.5, "symbols": {}}
        code, body = await asyncio.to_thread(get)
        assert code == 503 and body == {"error": "engine is stopping"}
        found = await asyncio.to_thread(status.query, srv.state_file)
        assert found.pid == os.getpid() and found.status["snapshot"]["uptime_s"] == 1.5
    finally:
        srv.close()
    assert not (tmp_path / "engine.json").exists()
