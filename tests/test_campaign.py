"""The reliability campaign, short: a few of each fault and two kill -9 restarts while
the engine (a separate process in live mode) trades the simulator. Every fault that
acts on the market data is detected and recovered from; afterwards every order and
fill at the venues is in the journal exactly once, nothing is left open or unfinished,
the balance changes at the venues equal what the journal's fills imply, and nothing
panicked. The full campaign is ``python -m arbhybrid campaign`` (RELIABILITY.md).
"""

from __future__ import annotations

from pathlib import Path

from arbhybrid.campaign import BOOK_KINDS, Campaign


def test_short_campaign_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    report = Campaign(
        minutes=3, kills=2, symbols=3, seed=3, workdir=tmp_path, per_kind_limit=2
    ).run()
    table = report.table()
    k = report.kinds
    a = report.accounting

    assert report.panics == [], table
    # Known findings, reported in RELIABILITY.md and not about loss: journal order rows
    # left in flight after recovery, dust a hedge cannot place (below the hedge venue's
    # amount precision) after a partial fill, fresh feed connections dropped at once.
    # Anything else fails.
    known = (
        "journal order row left in flight",
        "hedge failed, residual left",
        "partial fill of",
        "fresh feed connections dropped at once",
    )
    assert [f for f in report.findings if not f.startswith(known)] == [], table
    assert k["kill_9"].actions == 2 and k["kill_9"].recovered == 2, table
    assert report.engine_runs == 3, table
    for kind in BOOK_KINDS:
        assert k[kind].injected >= 1, (kind, table)
        assert k[kind].detected >= 1, (kind, table)
        assert k[kind].not_recovered == 0, (kind, table)
    # Disconnects, stalls, crossed and malformed frames are each seen every time.
    for kind in ("disconnect", "stall", "crossed_frame", "malformed_frame"):
        assert k[kind].detected == k[kind].injected, (kind, table)
    assert k["partial_fill"].detected == k["partial_fill"].injected, table

    assert a.transactions >= 1, table
    for v in ("mexc", "gateio"):
        assert a.fills_venue[v] == a.fills_journal[v], table
        assert a.fills_lost[v] == [] and a.fills_extra[v] == [], table
        assert a.fills_duplicated[v] == [], table
        assert a.orders_at_venue_not_in_journal[v] == [], table
        assert a.orders_open_at_venue[v] == [], table
    assert a.balance_mismatches == [], table
    assert a.unfinished_transactions == [], table
