"""The HTML report and ``history`` from the journal of a real simulator run: every plot
exists and shows something, the numbers agree with the engine's events, and the report
renders in headless Chromium."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import re
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import matplotlib.image
import numpy as np
import pytest

from arbhybrid import browser, cli, journal, report
from arbhybrid.simulator import Simulator, config_from_settings
from test_engine_acceptance import run_engine, settings_for_test

RUN_SECONDS = 10


@dataclass(frozen=True)
class Run:
    journal: Path
    snapshot: dict[str, Any]
    events: list[dict[str, Any]]
    symbols: list[str]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """One ~10 s engine run against the simulator, shared by this module's tests."""
    settings = settings_for_test()
    journal = tmp_path_factory.mktemp("report") / "journal.sqlite"
    sim = Simulator(config_from_settings(settings)).start()
    try:
        snap, events = asyncio.run(run_engine(settings, sim, journal, seconds=RUN_SECONDS))
    finally:
        sim.stop()
    assert any(e["type"] == "transaction" for e in events), snap["stats"]
    yield Run(journal, snap, events, list(settings.strategy.symbols))


def png_pixels(data: bytes) -> np.ndarray:
    return matplotlib.image.imread(io.BytesIO(data), format="png")


def assert_drawn(pixels: np.ndarray, what: str) -> None:
    """A picture of something: big enough, and not one flat colour."""
    assert pixels.shape[0] >= 100 and pixels.shape[1] >= 100, (what, pixels.shape)
    assert float(pixels[..., :3].std()) > 0.01, what


def test_every_plot_exists_and_is_not_empty(run: Run) -> None:
    plots, summary = report.build(run.journal)
    keys = [p.key for p in plots]
    assert keys == [
        *(f"spread-{s}" for s in sorted(run.symbols)),
        "pnl",
        "latency",
        "slippage",
        "outcomes",
    ]
    for p in plots:
        assert p.png is not None, (p.key, p.note)
        assert_drawn(png_pixels(p.png), p.key)
        # Every panel of every figure has data in it (not just axes).
        assert p.points and all(n > 0 for n in p.points.values()), (p.key, p.points)
    by_key = {p.key: p for p in plots}
    txs = [e for e in run.events if e["type"] == "transaction"]
    assert by_key["pnl"].points == {"transactions": len(txs)}
    assert by_key["latency"].points["tick-to-trade"] == len(txs)
    assert sum(by_key["outcomes"].points.values()) == len(txs)
    # The summary agrees with what the engine said while running.
    assert int(summary["transactions"]) == len(txs)
    assert Decimal(summary["realized PnL (quote, fees included)"]) == sum(
        (Decimal(t["realized_pnl"]) for t in txs), Decimal(0)
    )
    assert Decimal(summary["fees (quote)"]) == sum(
        (Decimal(t["fees_quote"]) for t in txs), Decimal(0)
    )
    with sqlite3.connect(run.journal) as c:
        assert int(summary["fills"]) == c.execute("SELECT COUNT(*) FROM fills").fetchone()[0]
    outcomes: dict[str, int] = {}
    for t in txs:
        outcomes[t["outcome"]] = outcomes.get(t["outcome"], 0) + 1
    for outcome, n in outcomes.items():
        assert f"{outcome} {n}" in summary["outcomes"]
    timed = [t["tick_to_trade_us"] for t in txs if t["tick_to_trade_us"] is not None]
    assert f"/ {max(timed)} us (n={len(timed)})" in summary["tick-to-trade p50 / p99 / max"]


def test_report_command_writes_a_self_contained_page(
    run: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", "--journal", str(run.journal), "--out", str(tmp_path)]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path == tmp_path / "report.html"
    page = path.read_text(encoding="utf-8")
    # Offline: nothing is fetched from anywhere.
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", page)
    images = re.findall(r"<img alt='([^']*)' src='data:image/png;base64,([^']+)'>", page)
    assert len(images) == len(run.symbols) + 4
    for alt, data in images:
        assert_drawn(png_pixels(base64.b64decode(data)), alt)


def test_report_missing_journal_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.sqlite"
    assert cli.main(["report", "--journal", str(missing), "--out", str(tmp_path)]) == 1
    assert f"journal {missing} does not exist" in capsys.readouterr().err


def require_chromium(environ: Mapping[str, str] = os.environ) -> None:
    """Skips, saying why, when Chromium is missing on a developer's machine; fails in
    CI (``CI`` set, as every CI service does), where scripts/setup must have installed
    it: a browser test that silently skips there tests nothing."""
    if browser.chromium() is not None:
        return
    why = (
        "headless Chromium is not installed (Debian package 'chromium'; "
        "scripts/test installs it when run as root)"
    )
    if environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"CI={environ['CI']}: {why}", pytrace=False)
    pytest.skip(why)


def test_require_chromium_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARB_CHROMIUM", "")
    monkeypatch.setenv("PATH", "")  # no Chromium to be found
    with pytest.raises(pytest.fail.Exception, match="CI=true: headless Chromium"):
        require_chromium({"CI": "true"})
    for local in ({}, {"CI": "false"}, {"CI": ""}):
        with pytest.raises(pytest.skip.Exception, match="headless Chromium"):
            require_chromium(local)


@pytest.fixture(scope="module")
def chromium() -> None:
    """Module scope and listed first: decided before the engine run is paid for."""
    require_chromium()


def test_report_opens_in_headless_chromium_and_a_screenshot_is_taken(
    chromium: None, run: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shot = tmp_path / "report.png"
    args = ["report", "--journal", str(run.journal), "--out", str(tmp_path), "--screenshot"]
    assert cli.main([*args, str(shot)]) == 0
    out = capsys.readouterr()
    assert "screenshot failed" not in out.err and "page error" not in out.err, out.err
    assert_drawn(matplotlib.image.imread(shot), "screenshot")
    # Every embedded plot decoded in the browser (the page counts them on load).
    page = browser.dump_dom((tmp_path / "report.html").resolve().as_uri())
    assert page.page_errors == []
    n = len(run.symbols) + 4
    assert f'data-images-loaded="{n}/{n}"' in page.dom


def test_history_lists_the_runs_transactions_with_filters(
    run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    txs = [e for e in run.events if e["type"] == "transaction"]
    symbol = txs[0]["symbol"]
    assert cli.main(["history", "--journal", str(run.journal), "--symbol", symbol]) == 0
    out = capsys.readouterr().out
    for t in txs:
        shown = str(t["tx_id"]) in out
        assert shown == (t["symbol"] == symbol), (t, out)
    # By outcome, and since a time after the run: nothing.
    outcome = txs[0]["outcome"]
    assert cli.main(["history", "--journal", str(run.journal), "--outcome", outcome]) == 0
    out = capsys.readouterr().out
    for t in txs:
        assert (str(t["tx_id"]) in out) == (t["outcome"] == outcome), (t, out)
    assert cli.main(["history", "--journal", str(run.journal), "--since", "2999-01-01"]) == 0
    assert "0 transactions" in capsys.readouterr().out
    # A time window: from the first transaction's start to the last's, in ISO form.
    with sqlite3.connect(run.journal) as c:
        starts = sorted(r[0] for r in c.execute("SELECT started_ms FROM transactions"))
    iso = [datetime.fromtimestamp(ms / 1000, UTC).isoformat() for ms in (starts[0], starts[-1])]
    argv = ["history", "--journal", str(run.journal), "--since", iso[0], "--until", iso[1]]
    assert cli.main(argv) == 0
    assert f"{len(starts)} transactions" in capsys.readouterr().out
    argv = ["history", "--journal", str(run.journal), "--until", iso[0]]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert f"{sum(s <= starts[0] for s in starts)} transactions" in out


#: Schema 1 as the engine wrote it (the fixture of the journals on users' disks).
SCHEMA_1 = (Path(__file__).parent / "fixtures" / "journal_schema_1.sql").read_text()

SCHEMA_1_ROWS = """
INSERT INTO meta VALUES ('schema', '1'), ('mode', 'sim'), ('instance', 'arb'),
    ('mexc_rest', 'http://127.0.0.1:1'), ('gateio_rest', 'http://127.0.0.1:2/api/v4');
INSERT INTO opportunities VALUES (1, 1500, 'BTC/USDT', 'mexc', 'gateio', '0.5', '50',
    '51', '100', '102', '12.5', 3, NULL, 'taken', 7);
INSERT INTO transactions VALUES (7, 'BTC/USDT', 'mexc', 'gateio', '0.5', '1', 1500, 1600,
    'success', '0.5', '0.5', '0.9', '0.1', '0', 150, NULL);
INSERT INTO spreads VALUES (1000, 'BTC/USDT', '100.1', '100.2', '100.3', '100.4');
INSERT INTO spreads VALUES (2000, 'BTC/USDT', '100.5', '100.6', NULL, NULL);
INSERT INTO spreads VALUES (3000, 'BTC/USDT', NULL, NULL, NULL, NULL);
INSERT INTO spreads VALUES (4000, 'BTC/USDT', '101', '101.1', '101.3', NULL);
INSERT INTO spreads VALUES (5000, 'BTC/USDT', '100.9', '101', '101.2', '101.3');
"""


def test_report_and_history_read_a_schema_1_journal_and_a_schema_2_one(
    run: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as c:
        c.executescript(SCHEMA_1 + SCHEMA_1_ROWS)
    c.close()
    # One venue-generic shape for both: a venue with neither side in an old row is absent.
    with journal.open_journal(old) as conn:
        quotes = journal.spreads(conn)
    D = Decimal
    assert quotes == [
        journal.Quote(1000, "BTC/USDT", "mexc", D("100.1"), D("100.2")),
        journal.Quote(1000, "BTC/USDT", "gateio", D("100.3"), D("100.4")),
        journal.Quote(2000, "BTC/USDT", "mexc", D("100.5"), D("100.6")),
        journal.Quote(4000, "BTC/USDT", "mexc", D("101"), D("101.1")),
        journal.Quote(4000, "BTC/USDT", "gateio", D("101.3"), None),
        journal.Quote(5000, "BTC/USDT", "mexc", D("100.9"), D("101")),
        journal.Quote(5000, "BTC/USDT", "gateio", D("101.2"), D("101.3")),
    ]
    with journal.open_journal(run.journal) as conn:
        assert journal.meta(conn)["schema"] == "2"
        new = journal.spreads(conn)
    assert {q.venue for q in new} == {"mexc", "gateio"}
    assert {q.symbol for q in new} == set(run.symbols)

    plots, _ = report.build(old)
    by_key = {p.key: p for p in plots}
    # The samples where both venues had both sides: 1000 and 5000.
    assert by_key["spread-BTC/USDT"].points == {"spread samples gateio / mexc": 2}
    assert by_key["spread-BTC/USDT"].png is not None
    for j in (old, run.journal):
        out_dir = tmp_path / j.stem
        assert cli.main(["report", "--journal", str(j), "--out", str(out_dir)]) == 0
        assert Path(capsys.readouterr().out.strip()) == out_dir / "report.html"
        assert cli.main(["history", "--journal", str(j)]) == 0
        out = capsys.readouterr().out
        with sqlite3.connect(j) as c:
            n = c.execute("SELECT COUNT(*) FROM transactions").fetchone()[0]
        c.close()
        assert f"{n} transactions" in out, out
