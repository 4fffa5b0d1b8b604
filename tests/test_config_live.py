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


def test_running_job_applies_threshold_and_refuses_key_edit(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    text = (REPO / "config.yaml").read_text()
    assert "min_edge_bps: 5 " in text
    cfg.write_text(text)
    log = tmp_path / "arbhybrid.log"
    journal = tmp_path / "journal.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARB", "MEXC", "GATEIO"))}
    env.update(
        {
            "ARB__JOURNAL__PATH": str(journal),
            "ARB__LOGGING__FILE": str(log),
            "MEXC_API_KEY": "key-before-edit",
        }
    )
    with (tmp_path / "out.txt").open("w") as out:
        p = subprocess.Popen(
            [sys.executable, "-m", "arbhybrid", "--config", str(cfg), "--duration", "20"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        state = state_file_for(journal)
        deadline = time.monotonic() + 60
        snap = None
        while time.monotonic() < deadline:
            try:
                snap = query(state).status
                break
            except EngineNotRunning:
                time.sleep(0.2)
        assert snap is not None, (tmp_path / "out.txt").read_text()
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
