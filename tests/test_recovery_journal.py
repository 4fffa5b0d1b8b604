"""Crash recovery and the journal it rests on (issue 13): a dry run sends nothing, recovery
included; live and simulator journals are separate and a journal names the mode, venues and
instance it belongs to; recovery pages through every fill; a late fill amends a finished
transaction; every order's intent is journaled before it is sent; and the client-id prefix
names the instance, so a second engine leaves the first one's orders alone.

The simulator runs in the test process (it is the venue, and survives a kill -9 of the
engine); the engine runs as ``python -m arbhybrid run --live`` pointed at it, as the fault
campaign does. Orders of "another process" are placed with the project's own exchange
client, with the client ids the engine would have used.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from arbhybrid import _native
from arbhybrid.campaign import EngineProcess, engine_env
from arbhybrid.config import ConfigError, load_config
from arbhybrid.exchange import Exchange, VenueSettings, client_order_id, connect_exchanges
from arbhybrid.simulator import Simulator

REPO = Path(__file__).resolve().parents[1]
SYM = {"mexc": "BTCUSDT", "gateio": "BTC_USDT"}
OPEN = ("new", "partially_filled")


@pytest.fixture
def sim_config() -> dict[str, Any]:
    """One symbol, a quiet market: the engine trades only where a test says so."""
    return {
        "seed": 3,
        "symbols": ["BTC/USDT"],
        "update_rate_hz": 10.0,
        "opportunity_rate_per_min": 0,
    }


def env_for(sim: Simulator, workdir: Path, **extra: str) -> dict[str, str]:
    workdir.mkdir(parents=True, exist_ok=True)
    env = engine_env(sim, workdir, ["BTC/USDT"])
    env.update(extra)
    return env


def live_journal(workdir: Path) -> Path:
    """Where a live run keeps its journal: ``<state>/live/journal.sqlite``, the state
    directory being the folder of ``journal.path`` (``workdir/journal.sqlite``)."""
    return workdir / "live" / "journal.sqlite"


def run_engine(
    env: dict[str, str], workdir: Path, *args: str, duration: float = 2.0
) -> tuple[int, str]:
    out = workdir / "engine.out"
    with out.open("ab") as f:
        rc = subprocess.run(
            [sys.executable, "-m", "arbhybrid", "run", *args, "--duration", str(duration)],
            cwd=REPO,
            env=env,
            stdout=f,
            stderr=subprocess.STDOUT,
            timeout=180,
        ).returncode
    return rc, out.read_text()


def wait_for(what: str, cond: Any, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not cond():
        assert time.monotonic() < deadline, f"never happened: {what}"
        assert proc.poll() is None, f"engine exited while waiting for {what}"
        time.sleep(0.05)


def rows(journal: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as c:
        return list(c.execute(sql, args))


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


async def exchanges(sim: Simulator) -> dict[str, Exchange]:
    info = sim.info
    mexc, gate = await asyncio.gather(
        asyncio.to_thread(_get, info["mexc_rest"] + "/api/v3/exchangeInfo"),
        asyncio.to_thread(_get, info["gate_rest"] + "/spot/currency_pairs"),
    )
    table = _native.SymbolTable.from_json(mexc, gate)
    settings = []
    for v, (rest, ws) in {
        "mexc": (info["mexc_rest"], info["mexc_ws"]),
        "gateio": (info["gate_rest"], info["gate_ws"]),
    }.items():
        acc = info["accounts"][v]
        settings.append(VenueSettings(v, rest, ws, acc["api_key"], acc["api_secret"]))
    return await connect_exchanges(settings, symbol_table=table)


def top(sim: Simulator, venue: str) -> tuple[Decimal, Decimal]:
    b = sim.truth_book(venue, SYM[venue], 1)
    assert b is not None
    return Decimal(b["bids"][0][0]), Decimal(b["asks"][0][0])


def resting_sell(sim: Simulator, cid: str) -> None:
    """A GTC sell far above the market on MEXC (it rests)."""

    async def go() -> None:
        ex = (await exchanges(sim))["mexc"]
        _, ask = top(sim, "mexc")
        price = (ask * 2).quantize(Decimal("0.01"))
        await ex.place_limit(SYM["mexc"], "sell", Decimal("0.001"), price, cid)

    asyncio.run(go())


def market_buys(sim: Simulator, cids: list[str], qty: str = "0.0002") -> None:
    """Market buys on MEXC, one per client id (each fills at once)."""

    async def go() -> None:
        ex = (await exchanges(sim))["mexc"]
        for cid in cids:
            await ex.place_market(SYM["mexc"], "buy", cid, qty=Decimal(qty))

    asyncio.run(go())


def orders_of(sim: Simulator, prefix: str, txn: int | None = None) -> list[dict[str, Any]]:
    head = f"{prefix}_" if txn is None else client_order_id(prefix, txn, "a")[:-1]
    return [
        o
        for v in ("mexc", "gateio")
        for o in sim.orders(v)
        if o["client_order_id"].removeprefix("t-").startswith(head)
    ]


def fills_of(sim: Simulator, prefix: str, txn: int) -> list[dict[str, Any]]:
    head = client_order_id(prefix, txn, "a")[:-1]
    return [
        f
        for v in ("mexc", "gateio")
        for f in sim.fills(v)
        if f["client_order_id"].removeprefix("t-").startswith(head)
    ]


def net_base(fills: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(f["qty"]) * (1 if f["side"] == "buy" else -1) for f in fills), Decimal(0))


# ---------------------------------------------------------------------------------------
# 1. A dry run sends nothing, recovery included.


def test_dry_run_recovery_sends_nothing_and_reports_what_it_would_do(
    sim: Simulator, tmp_path: Path
) -> None:
    txn = 7001
    # Left by a crashed run: a resting sell and a filled buy of one arbitrage the
    # journal never heard of (the kill came before the journal write).
    resting_sell(sim, client_order_id("arb", txn, "b"))
    market_buys(sim, [client_order_id("arb", txn, "a")])
    before = {v: sim.orders(v) for v in ("mexc", "gateio")}
    fills_before = {v: len(sim.fills(v)) for v in ("mexc", "gateio")}

    env = env_for(sim, tmp_path)
    rc, out = run_engine(env, tmp_path, "--live", "--dry-run")
    assert rc == 0, out
    # The venue's ground truth: no new order, no cancel, no fill.
    for v in ("mexc", "gateio"):
        assert sim.orders(v) == before[v], v
        assert len(sim.fills(v)) == fills_before[v], v
    # It says what it would have done, in the summary.
    assert "would cancel" in out and "would flatten" in out, out
    # Nothing journaled that would make a real recovery think it acted.
    j = live_journal(tmp_path)
    assert rows(j, "SELECT COUNT(*) FROM fills") == [(0,)]
    assert rows(j, "SELECT COUNT(*) FROM transactions") == [(0,)]

    # The real run then does it: the sell canceled, the buy flattened.
    rc, out = run_engine(env, tmp_path, "--live")
    assert rc == 0, out
    sell = client_order_id("arb", txn, "b")
    statuses = [o["status"] for o in orders_of(sim, "arb", txn) if o["client_order_id"] == sell]
    assert statuses == ["canceled"]
    assert net_base(fills_of(sim, "arb", txn)) == 0
    assert rows(j, "SELECT outcome FROM transactions WHERE tx_id = ?", txn) == [("recovered",)]


# ---------------------------------------------------------------------------------------
# 2. Live and simulator journals are separate; a journal names what it belongs to.


def test_live_run_never_recovers_from_the_simulator_journal(sim: Simulator, tmp_path: Path) -> None:
    env = env_for(sim, tmp_path)
    # A simulator session (the embedded simulator): journal.path links to it.
    rc, out = run_engine(env, tmp_path, duration=1.0)
    assert rc == 0, out
    link = tmp_path / "journal.sqlite"
    assert link.is_symlink()
    sim_j = link.resolve()
    assert sim_j.parent == tmp_path / "sim"
    # An unfinished simulated arbitrage in it.
    with sqlite3.connect(sim_j) as c:
        c.execute(
            "INSERT INTO transactions (tx_id, symbol, buy_venue, sell_venue, qty, "
            "expected_pnl, started_ms) VALUES (42, 'BTC/USDT', 'mexc', 'gateio', '0.01', "
            "'0', ?)",
            (int(time.time() * 1000),),
        )

    rc, out = run_engine(env, tmp_path, "--live")
    assert rc == 0, out
    # The simulated transaction is untouched; the live run has its own journal.
    assert rows(sim_j, "SELECT outcome FROM transactions WHERE tx_id = 42") == [(None,)]
    assert dict(rows(sim_j, "SELECT key, value FROM meta"))["mode"] == "sim"
    meta = dict(rows(live_journal(tmp_path), "SELECT key, value FROM meta"))
    info = sim.info
    assert meta["mode"] == "live"
    assert meta["instance"] == "arb"
    assert meta["rest.mexc"] == info["mexc_rest"]
    assert meta["rest.gateio"] == info["gate_rest"]
    assert not any("secret" in k or "key" in k for k in meta)


@pytest.mark.parametrize("damage", ["other_mode", "other_venue", "no_meta", "old_layout"])
def test_live_refuses_a_journal_that_is_not_its_own(
    sim: Simulator, tmp_path: Path, damage: str
) -> None:
    env = env_for(sim, tmp_path)
    rc, out = run_engine(env, tmp_path, "--live", duration=1.0)
    assert rc == 0, out
    j = live_journal(tmp_path)
    with sqlite3.connect(j) as c:
        if damage == "other_mode":
            c.execute("UPDATE meta SET value = 'sim' WHERE key = 'mode'")
        elif damage == "other_venue":
            c.execute("UPDATE meta SET value = 'https://api.mexc.com' WHERE key = 'rest.mexc'")
        else:
            c.execute("DROP TABLE meta")
    if damage == "old_layout":  # where an older version kept the live journal
        j.rename(tmp_path / "journal.sqlite")
    # Something recovery would act on: our resting order at the venue.
    resting_sell(sim, client_order_id("arb", 9001, "b"))
    before = {v: sim.orders(v) for v in ("mexc", "gateio")}
    rc, out = run_engine(env, tmp_path, "--live")
    assert rc == 2, out
    assert str(j) in out and "refus" in out, out
    for v in ("mexc", "gateio"):
        assert sim.orders(v) == before[v], v


# ---------------------------------------------------------------------------------------
# 4. Recovery pages through every fill of the window.


def test_recovery_adopts_more_than_100_fills_after_kill_9(sim: Simulator, tmp_path: Path) -> None:
    env = env_for(sim, tmp_path)
    p = EngineProcess(env, tmp_path)
    p.wait_ready()
    p.kill9()
    # What the killed engine had sent: 130 fills of one arbitrage, none journaled
    # (MEXC answers at most 100 trades per request).
    txn = 8001
    market_buys(sim, [client_order_id("arb", txn, f"u{k}") for k in range(1, 131)])
    bought = net_base(fills_of(sim, "arb", txn))
    assert len(fills_of(sim, "arb", txn)) >= 130

    rc, out = run_engine(env, tmp_path, "--live")
    assert rc == 0, out
    j = live_journal(tmp_path)
    at_venue = {f["trade_id"] for f in fills_of(sim, "arb", txn)}
    journaled = {t for (t,) in rows(j, "SELECT trade_id FROM fills WHERE tx_id = ?", txn)}
    assert journaled == at_venue
    ((outcome, residual, detail),) = rows(
        j, "SELECT outcome, residual_base, detail FROM transactions WHERE tx_id = ?", txn
    )
    assert outcome == "recovered"
    assert f"residual {bought}" in detail or f"residual {bought.normalize()}" in detail, detail
    # Flattened: the transaction's fills at the venue net to zero.
    assert net_base(fills_of(sim, "arb", txn)) == 0
    assert Decimal(residual) == bought


# ---------------------------------------------------------------------------------------
# 5. A late fill for a finished transaction amends it.


def test_late_fill_amends_a_finished_transaction(sim: Simulator, tmp_path: Path) -> None:
    env = env_for(sim, tmp_path)
    txn = 8501
    # A transaction that ended flat: bought on MEXC, sold on MEXC (both journaled by
    # the run that recovers them).
    market_buys(sim, [client_order_id("arb", txn, "a")])
    rc, out = run_engine(env, tmp_path, "--live", duration=1.0)
    assert rc == 0, out
    j = live_journal(tmp_path)
    ((outcome, bought, _sold, pnl, fees),) = rows(
        j,
        "SELECT outcome, bought_qty, sold_qty, realized_pnl, fees_quote FROM transactions "
        "WHERE tx_id = ?",
        txn,
    )
    # (bought and sold as the fills before recovery's flattening left them)
    assert outcome == "recovered" and Decimal(bought) == Decimal("0.0002")
    with sqlite3.connect(j) as c:  # as if it had completed normally
        c.execute("UPDATE transactions SET outcome = 'completed' WHERE tx_id = ?", (txn,))
    # A late fill of the same arbitrage reaches the venue afterwards.
    market_buys(sim, [client_order_id("arb", txn, "u7")], qty="0.0003")

    rc, out = run_engine(env, tmp_path, "--live")
    assert rc == 0, out
    ((outcome2, bought2, sold2, pnl2, fees2, residual2),) = rows(
        j,
        "SELECT outcome, bought_qty, sold_qty, realized_pnl, fees_quote, residual_base "
        "FROM transactions WHERE tx_id = ?",
        txn,
    )
    # Amended, not overwritten: the outcome stays, the amounts count every fill.
    assert outcome2 == "completed"
    venue = fills_of(sim, "arb", txn)
    buys = sum((Decimal(f["qty"]) for f in venue if f["side"] == "buy"), Decimal(0))
    sells = sum((Decimal(f["qty"]) for f in venue if f["side"] == "sell"), Decimal(0))
    assert (Decimal(bought2), Decimal(sold2)) == (buys, sells)
    assert Decimal(bought2) == Decimal("0.0005") + Decimal(0)  # 0.0002 + 0.0003
    assert Decimal(residual2) == 0  # the late buy was flattened too
    assert Decimal(fees2) > Decimal(fees)
    journaled = {t for (t,) in rows(j, "SELECT trade_id FROM fills WHERE tx_id = ?", txn)}
    assert journaled == {f["trade_id"] for f in venue}
    events = rows(j, "SELECT detail FROM events WHERE kind = 'adopted'")
    assert any(f"tx {txn}" in d and "completed" in d for (d,) in events), events
    del pnl, pnl2


# ---------------------------------------------------------------------------------------
# 6. Every order's intent is in the journal before its outcome is known.


@pytest.mark.parametrize(
    "sim_config", [{"seed": 3, "symbols": ["BTC/USDT"], "opportunity_rate_per_min": 240}]
)
def test_order_intent_is_journaled_while_the_send_is_outstanding(
    sim: Simulator, tmp_path: Path
) -> None:
    env = env_for(
        sim,
        tmp_path,
        ARB__EXCHANGES__MEXC__TIMEOUTS__REQUEST_MS="30000",
        ARB__STRATEGY__HEDGE_POLICY="hold",
    )
    # The next MEXC placement is applied at the venue and never answered.
    sim.inject_fault("mexc", "apply_then_timeout", count=1)
    p = EngineProcess(env, tmp_path)

    def at_mexc() -> list[str]:
        return [
            o["client_order_id"] for o in sim.orders("mexc") if o["client_order_id"][:4] == "arb_"
        ]

    try:
        wait_for("an order of ours at MEXC", lambda: at_mexc() != [], p.proc)
        cid = at_mexc()[0]
        j = live_journal(tmp_path)

        def journaled() -> bool:
            try:
                return rows(j, "SELECT 1 FROM orders WHERE client_order_id = ?", cid) != []
            except sqlite3.Error:
                return False

        # While the request is still outstanding (its answer never comes; the
        # client's timeout is 30 s), the journal already holds the order.
        deadline = time.monotonic() + 20
        while not journaled() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert p.alive()
    finally:
        p.kill9()
    ((tx, side, kind, qty),) = rows(
        j, "SELECT tx_id, side, kind, qty FROM orders WHERE client_order_id = ?", cid
    )
    assert rows(j, "SELECT COUNT(*) FROM transactions WHERE tx_id = ?", tx) == [(1,)]
    assert rows(j, "SELECT COUNT(*) FROM orders WHERE tx_id = ?", tx) == [(2,)]
    assert side == "buy" or side == "sell"
    assert qty is not None and kind


def test_orders_the_journal_left_in_flight_get_the_venues_word(
    sim: Simulator, tmp_path: Path
) -> None:
    """A kill between the send and the answer leaves the intent ``pending_new``: recovery
    asks the venue, and journals the final state, or ``not_found`` when the venue never
    had it (and it has no fill)."""
    env = env_for(sim, tmp_path)
    rc, out = run_engine(env, tmp_path, "--live", duration=1.0)
    assert rc == 0, out
    txn = 8801
    sent, lost = client_order_id("arb", txn, "a"), client_order_id("arb", txn, "b")

    async def ioc_below_market() -> None:
        ex = (await exchanges(sim))["mexc"]
        bid, _ = top(sim, "mexc")
        price = (bid / 2).quantize(Decimal("0.01"))
        await ex.place_limit(SYM["mexc"], "buy", Decimal("0.001"), price, sent, tif="ioc")

    asyncio.run(ioc_below_market())  # it reached MEXC and expired unfilled
    j = live_journal(tmp_path)
    with sqlite3.connect(j) as c:  # what the killed engine had journaled
        c.execute(
            "INSERT INTO transactions (tx_id, symbol, buy_venue, sell_venue, qty, expected_pnl, "
            "started_ms) VALUES (?, 'BTC/USDT', 'mexc', 'gateio', '0.001', '0', ?)",
            (txn, int(time.time() * 1000)),
        )
        for cid, leg, venue, side in (
            (sent, "buy", "mexc", "buy"),
            (lost, "sell", "gateio", "sell"),
        ):
            c.execute(
                "INSERT INTO orders (client_order_id, tx_id, leg, venue, symbol, side, kind, "
                "qty, status, request_us) VALUES (?, ?, ?, ?, 'BTC/USDT', ?, 'ioc', '0.001', "
                "'pending_new', 1)",
                (cid, txn, leg, venue, side),
            )
    rc, out = run_engine(env, tmp_path, "--live")
    assert rc == 0, out
    status = dict(rows(j, "SELECT client_order_id, status FROM orders WHERE tx_id = ?", txn))
    assert status[sent] in ("canceled", "expired"), status
    assert status[lost] == "not_found", status
    assert rows(j, "SELECT outcome FROM transactions WHERE tx_id = ?", txn) == [("recovered",)]


# ---------------------------------------------------------------------------------------
# 7. The client-id prefix names the instance.


def test_second_instance_leaves_the_first_ones_orders_and_fills_alone(
    sim: Simulator, tmp_path: Path
) -> None:
    resting_sell(sim, client_order_id("arb", 9501, "b"))
    market_buys(sim, [client_order_id("arb", 9502, "a")])
    before = {v: sim.orders(v) for v in ("mexc", "gateio")}

    second = tmp_path / "second"
    env2 = env_for(sim, second, ARB__ENGINE__INSTANCE="arb2")
    rc, out = run_engine(env2, second, "--live")
    assert rc == 0, out
    for v in ("mexc", "gateio"):
        assert sim.orders(v) == before[v], v
    j2 = live_journal(second)
    assert rows(j2, "SELECT COUNT(*) FROM fills") == [(0,)]
    assert rows(j2, "SELECT COUNT(*) FROM transactions") == [(0,)]
    assert dict(rows(j2, "SELECT key, value FROM meta"))["instance"] == "arb2"

    # The first instance's own engine does recover them.
    first = tmp_path / "first"
    rc, out = run_engine(env_for(sim, first), first, "--live")
    assert rc == 0, out
    assert [o["status"] for o in orders_of(sim, "arb", 9501)] == ["canceled"]
    j1 = live_journal(first)
    assert {t for (t,) in rows(j1, "SELECT trade_id FROM fills WHERE tx_id = 9502")} >= {
        f["trade_id"] for f in fills_of(sim, "arb", 9502) if f["side"] == "buy"
    }


@pytest.mark.parametrize("bad", ["", "ARB", "arb_1", "arbitrage", "a-b", "é"])
def test_instance_name_is_validated_against_both_venues_id_rules(
    bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARB__ENGINE__INSTANCE", json.dumps(bad))
    with pytest.raises(ConfigError) as e:
        load_config(REPO / "config.yaml")
    assert any(p.startswith("engine.instance") for p in e.value.problems), e.value.problems


def test_instance_name_default_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_config(REPO / "config.yaml").engine.instance == "arb"
    monkeypatch.setenv("ARB__ENGINE__INSTANCE", "desk2")
    assert load_config(REPO / "config.yaml").engine.instance == "desk2"
