"""kill -9 of the engine at random moments, then a restart: nothing lost.

The simulator runs in the test process (the venue survives the crash); the engine runs as
a separate process in live mode pointed at it, exactly as it would at a real venue. After
the crashes, a clean run recovers: our leftover orders are canceled, fills the journal
missed are adopted, unfinished transactions are closed. Then the journal's fills are the
venue's fills (by trade id), no order of ours is left open, and no transaction is left
unfinished.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from arbhybrid.campaign import engine_env
from arbhybrid.simulator import Simulator

REPO = Path(__file__).resolve().parents[1]
VENUES = ("mexc", "gateio")


def start_engine(env: dict[str, str], out: Path, *args: str) -> subprocess.Popen[bytes]:
    with out.open("ab") as f:
        return subprocess.Popen(
            [sys.executable, "-m", "arbhybrid", "run", "--live", *args],
            cwd=REPO,
            env=env,
            stdout=f,
            stderr=subprocess.STDOUT,
        )


def tx_count(journal: Path) -> int:
    if not journal.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as c:
            return int(c.execute("SELECT COUNT(*) FROM transactions").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_kill_9_twice_then_recovery_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    rng = random.Random(11)
    sim = Simulator(
        {
            "seed": 5,
            "symbols": ["BTC/USDT", "ETH/USDT", "SOL/USDT"],
            "update_rate_hz": 30.0,
            "opportunity_rate_per_min": 120.0,
        }
    ).start()
    try:
        env = engine_env(sim, tmp_path, ["BTC/USDT", "ETH/USDT", "SOL/USDT"])
        journal = tmp_path / "live" / "journal.sqlite"  # a live run's journal
        out = tmp_path / "engine.out"
        for round_no in range(2):
            before = tx_count(journal)
            p = start_engine(env, out)
            deadline = time.monotonic() + 60
            # Let it trade, then kill it at a random moment.
            while tx_count(journal) <= before and time.monotonic() < deadline:
                time.sleep(0.05)
                assert p.poll() is None, out.read_text()
            time.sleep(rng.uniform(0.0, 1.5))
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=10)
            assert tx_count(journal) > before, f"round {round_no}: no transaction before the kill"

        # A clean run recovers, trades a little, and stops.
        p = start_engine(env, out, "--duration", "4")
        assert p.wait(timeout=120) == 0, out.read_text()
        assert "arbhybrid summary" in out.read_text()

        with sqlite3.connect(journal) as c:
            unfinished = c.execute(
                "SELECT tx_id FROM transactions WHERE outcome IS NULL"
            ).fetchall()
            assert unfinished == []
            jf = {v: set() for v in VENUES}
            for venue, trade_id in c.execute("SELECT venue, trade_id FROM fills"):
                jf[venue].add(trade_id)
        for v in VENUES:
            assert jf[v] == {f["trade_id"] for f in sim.fills(v)}, v
            open_orders = [
                o for o in sim.orders(v) if o["status"] in ("NEW", "PARTIALLY_FILLED", "open")
            ]
            assert open_orders == [], (v, open_orders)
    finally:
        sim.stop()
