"""The default command, as a user runs it: ``python -m arbhybrid --duration N`` starts the
embedded simulator and the engine, completes arbitrages, and ends with a summary and a
reconciliation of every transaction against the simulator's ground truth."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_default_command_trades_and_reconciles(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARB", "MEXC", "GATEIO"))}
    env["ARB__JOURNAL__PATH"] = str(tmp_path / "journal.sqlite")
    env["ARB__LOGGING__FILE"] = str(tmp_path / "arbhybrid.log")
    env["ARB__SIMULATOR__OPPORTUNITY_RATE_PER_MIN"] = "30"
    r = subprocess.run(
        [sys.executable, "-m", "arbhybrid", "--duration", "15"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "arbhybrid summary" in out
    assert "reconciliation: OK" in out, out
    tx_line = next(line for line in out.splitlines() if "transactions:" in line)
    assert "completed" in tx_line, out
    # The journal the run wrote is where `report` and `history` look by default.
    link = tmp_path / "journal.sqlite"
    assert link.is_symlink() and link.resolve().is_file()
    h = subprocess.run(
        [sys.executable, "-m", "arbhybrid", "history", "--journal", str(link)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert h.returncode == 0 and "completed" in h.stdout, h.stdout + h.stderr
