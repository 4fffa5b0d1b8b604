"""Drives the engine from Python: starts it on the embedded exchange simulator, watches
its events, changes a parameter while it runs, and stops it.

    python examples/drive_engine.py [--config config.yaml] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
from decimal import Decimal
from pathlib import Path

import arbhybrid

REPO = Path(__file__).resolve().parents[1]


async def drive(config: Path, seconds: float, journal: Path) -> int:
    settings = arbhybrid.load_config(config)
    transactions: list[arbhybrid.TransactionEvent] = []

    def on_events(batch: list[arbhybrid.EngineEvent]) -> None:
        for ev in batch:
            if ev["type"] == "opportunity":
                print(f"opportunity {ev['symbol']} edge {ev['edge_bps']} bps: {ev['decision']}")
            elif ev["type"] == "transaction":
                transactions.append(ev)
                print(f"transaction {ev['tx_id']} {ev['outcome']} pnl {ev['realized_pnl']}")
            elif ev["type"] == "halted":
                print(f"halted: {ev['reason']}")

    with arbhybrid.Simulator(arbhybrid.simulator_config(settings)) as sim:
        endpoints = arbhybrid.simulator_endpoints(sim)
        engine = await arbhybrid.RunningEngine.start(
            settings, endpoints, on_events=on_events, journal_path=str(journal)
        )
        try:
            await asyncio.sleep(seconds / 2)
            # Change a parameter while it runs: a higher minimum edge, applied at once.
            raised = settings.strategy.min_edge_bps + Decimal(1)
            strategy = settings.strategy.model_copy(update={"min_edge_bps": raised})
            engine.apply(settings.model_copy(update={"strategy": strategy}))
            snap: arbhybrid.Snapshot = engine.snapshot()
            print(f"min_edge_bps now {snap['strategy']['min_edge_bps']}")
            await asyncio.sleep(seconds / 2)
        finally:
            await engine.shutdown()
        final = engine.snapshot()
    st = final["stats"]
    print(
        f"stopped: {st['opportunities_detected']} opportunities, "
        f"{len(transactions)} transactions, PnL {st['pnl']}"
    )
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, default=REPO / "config.yaml")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--journal", type=Path, default=Path("drive_engine.sqlite"))
    args = p.parse_args()
    return asyncio.run(drive(args.config, args.seconds, args.journal))


if __name__ == "__main__":
    raise SystemExit(main())
