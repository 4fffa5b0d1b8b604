"""The reliability campaign: the engine trades against the simulator while the venues
misbehave and the engine is killed with SIGKILL; afterwards every order and fill is
accounted for.

The simulator runs in this process (so a SIGKILL of the engine leaves the venue alive,
as a real venue would be); the engine runs as a separate ``python -m arbhybrid run
--live`` process pointed at it, exactly as it would trade a real venue
(``process``). The campaign watches the engine through its status endpoint (``GET
/status``, the same snapshot ``RunningEngine.snapshot()`` gives) and its journal,
injects faults through ``Simulator.inject_fault`` and, per fault kind, counts what was
injected (the simulator's ``fired``), what the engine detected (its counters moved),
what it recovered from (books valid again / transaction closed) and how long recovery
took (``faults``; the run itself is ``runner``).

At the end the engine is stopped cleanly and the ground truth is compared with the
journal (``accounting``, on ``arbhybrid.reconcile``): orders at the venue vs. orders the
journal intended, fills at the venue vs. fills in the journal (by trade id; lost and
duplicated), balance changes at the venue vs. those the journal's fills imply (per
venue and asset, exactly), and PnL; ``report`` renders it.

``soak()`` is the long run without faults: many symbols at the simulator's full update
rate, sampling RSS, book lag and tick-to-trade.
"""

from __future__ import annotations

from arbhybrid.campaign.accounting import Accounting, account
from arbhybrid.campaign.faults import (
    BOOK_KINDS,
    JOURNAL_LAG_S,
    KINDS,
    ORDER_KINDS,
    RECOVERY_TIMEOUT_S,
    REST_KINDS,
    WEIGHTS,
    Faults,
    KindStats,
    venue_symbol,
)
from arbhybrid.campaign.process import (
    MAJORS,
    REPO,
    STALE_MS,
    EngineProcess,
    engine_env,
    symbols_for,
)
from arbhybrid.campaign.report import Report
from arbhybrid.campaign.runner import Campaign
from arbhybrid.campaign.soak import journal_windows, soak, soak_summary
from arbhybrid.venues import VENUES

__all__ = [
    "BOOK_KINDS",
    "JOURNAL_LAG_S",
    "KINDS",
    "MAJORS",
    "ORDER_KINDS",
    "RECOVERY_TIMEOUT_S",
    "REPO",
    "REST_KINDS",
    "STALE_MS",
    "VENUES",
    "WEIGHTS",
    "Accounting",
    "Campaign",
    "EngineProcess",
    "Faults",
    "KindStats",
    "Report",
    "account",
    "engine_env",
    "journal_windows",
    "soak",
    "soak_summary",
    "symbols_for",
    "venue_symbol",
]
