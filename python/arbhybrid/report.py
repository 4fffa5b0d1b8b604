"""The HTML report: what happened in a run, as pictures, from the journal alone.

The report is one self-contained HTML file (plots are embedded PNGs), so it opens
offline. Plots: the cross-venue spread over time per symbol with the trades marked,
cumulative PnL, tick-to-trade and per-leg latency histograms, expected vs. realized
slippage, and outcomes by kind.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import math
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: render to PNG only
import matplotlib.pyplot as plt
import matplotlib.ticker

from arbhybrid import journal

BPS = Decimal(10_000)


@dataclass(frozen=True)
class Plot:
    """One rendered plot: its id, title, and PNG bytes (None when there is no data)."""

    key: str
    title: str
    png: bytes | None
    note: str = ""
    #: Data points drawn in each panel of the figure (an empty panel shows as 0).
    points: dict[str, int] = field(default_factory=dict)


def _png(fig: matplotlib.figure.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _ms_to_s(t0: int, t: int) -> float:
    return (t - t0) / 1000.0


#: Spread samples come about once a second; a longer pause is the time between two runs,
#: where the line breaks instead of joining them.
RUN_BREAK_MS = 10_000


def spread_plots(
    spreads: list[journal.Quote], opportunities: list[sqlite3.Row], txs: list[journal.Transaction]
) -> list[Plot]:
    """Per symbol, one panel per pair of venues present: the pair's two directional
    cross-venue edges (bps) over time, detections dotted, trades marked."""
    # symbol -> sample time -> venue -> (bid, ask), for quotes with both sides.
    samples: dict[str, dict[int, dict[str, tuple[Decimal, Decimal]]]] = defaultdict(dict)
    for q in sorted(spreads, key=lambda q: q.t_ms):
        at = samples[q.symbol].setdefault(q.t_ms, {})
        if q.bid is not None and q.ask is not None:
            at[q.venue] = (q.bid, q.ask)
    opps: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for o in sorted(opportunities, key=lambda o: o["t_ms"]):
        opps[o["symbol"]].append(o)
    plots = []
    # One time origin for samples, detections and trades, so none lands left of zero.
    t0 = min(
        [min(by_t) for by_t in samples.values()]
        + [rows[0]["t_ms"] for rows in opps.values()]
        + [t.started_ms for t in txs],
        default=0,
    )
    for symbol in sorted(samples):
        by_t = samples[symbol]
        venues = sorted({v for at in by_t.values() for v in at})
        # Each pair's edges: (a, b, times, buy a / sell b, buy b / sell a).
        series = []
        for a, b in itertools.combinations(venues, 2):
            ts: list[float] = []
            a2b: list[float] = []
            b2a: list[float] = []
            last_ms = None
            for t_ms, at in by_t.items():
                if a not in at or b not in at:
                    continue
                if last_ms is not None and t_ms - last_ms > RUN_BREAK_MS:
                    ts.append(_ms_to_s(t0, last_ms))
                    a2b.append(math.nan)
                    b2a.append(math.nan)
                last_ms = t_ms
                (a_bid, a_ask), (b_bid, b_ask) = at[a], at[b]
                ts.append(_ms_to_s(t0, t_ms))
                a2b.append(float((b_bid - a_ask) / a_ask * BPS))  # buy at a, sell at b
                b2a.append(float((a_bid - b_ask) / b_ask * BPS))  # buy at b, sell at a
            if ts:
                series.append((a, b, ts, a2b, b2a))
        if not series:
            continue
        fig, axes = plt.subplots(len(series), 1, figsize=(9, 3.2 * len(series)), squeeze=False)
        points: dict[str, int] = {}
        for ax, (a, b, ts, a2b, b2a) in zip(axes[:, 0], series, strict=True):
            trades = [
                t for t in txs if t.symbol == symbol and {t.buy_venue, t.sell_venue} == {a, b}
            ]
            ax.plot(ts, a2b, lw=0.8, label=f"buy {a} / sell {b}")
            ax.plot(ts, b2a, lw=0.8, label=f"buy {b} / sell {a}")
            ax.axhline(0, color="grey", lw=0.5)
            # What the engine saw at detection (net of fees, at the traded depth), between
            # the once-a-second samples.
            for buy, sell, colour in ((a, b, "tab:blue"), (b, a, "tab:orange")):
                pts = [o for o in opps[symbol] if (o["buy_venue"], o["sell_venue"]) == (buy, sell)]
                if pts:
                    ax.scatter(
                        [_ms_to_s(t0, o["t_ms"]) for o in pts],
                        [float(Decimal(o["edge_bps"])) for o in pts],
                        s=14,
                        color=colour,
                        marker="o",
                        label=f"detected net edge, buy {buy}",
                        zorder=3,
                    )
            for t in trades:
                ax.axvline(_ms_to_s(t0, t.started_ms), color="tab:red", lw=0.6, alpha=0.6)
            ax.set_xlabel("seconds")
            ax.set_ylabel("edge (bps)")
            ax.legend(loc="upper right", fontsize=7)
            ax.set_title(
                f"{symbol} {a} / {b}: gross top-of-book edge (lines), detections (dots) "
                f"({len(trades)} trades, red)"
            )
            points[f"spread samples {a} / {b}"] = sum(not math.isnan(v) for v in a2b)
        plots.append(Plot(f"spread-{symbol}", f"Spread {symbol}", _png(fig), points=points))
    if not plots:
        plots.append(Plot("spread", "Spread", None, "no spread samples in the journal"))
    return plots


def pnl_plot(txs: list[journal.Transaction]) -> Plot:
    done = sorted(
        (t for t in txs if t.finished_ms and t.realized_pnl is not None),
        key=lambda t: t.finished_ms or 0,
    )
    if not done:
        return Plot("pnl", "Cumulative PnL", None, "no finished transactions")
    t0 = done[0].started_ms
    xs, ys, acc = [0.0], [0.0], Decimal(0)  # the curve starts at zero when trading starts
    for t in done:
        acc += t.realized_pnl or 0
        xs.append(_ms_to_s(t0, t.finished_ms or t.started_ms))
        ys.append(float(acc))
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.step(xs, ys, where="post")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("seconds")
    ax.set_ylabel("realized PnL (quote)")
    ax.set_title(f"Cumulative realized PnL: {acc} over {len(done)} transactions")
    return Plot("pnl", "Cumulative PnL", _png(fig), points={"transactions": len(done)})


def _log_bins(values: list[float], n: int = 30) -> list[float]:
    """``n`` log-spaced bin edges covering ``values`` (all > 0 after clamping)."""
    lo = max(min(values, default=1.0), 1e-3)
    hi = max(max(values, default=1.0), lo * 1.01)
    ratio = (hi * 1.001 / lo) ** (1 / n)
    return [lo * ratio**i for i in range(n + 1)]


def _log_axis(ax: matplotlib.axes.Axes) -> None:
    """A log x axis labelled with plain numbers (1, 2, 5, 10 ...), not powers of ten."""
    plain = matplotlib.ticker.FuncFormatter(lambda v, _pos: f"{v:g}")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_locator(matplotlib.ticker.LogLocator(subs=(2.0, 5.0)))
    ax.xaxis.set_minor_formatter(plain)


def latency_plot(orders: list[sqlite3.Row], txs: list[journal.Transaction]) -> Plot:
    """Tick-to-trade, and per leg the time from request to the venue's acknowledgement
    (to the order's final state for orders whose acknowledgement was not journaled)."""
    ttt = [t.tick_to_trade_us for t in txs if t.tick_to_trade_us is not None]
    legs: dict[str, list[float]] = defaultdict(list)
    to_final = False
    for o in orders:
        if o["leg"] not in ("buy", "sell") or not o["request_us"]:
            continue
        end = o["ack_us"]
        if end is None and o["final_us"] is not None:
            end, to_final = o["final_us"], True
        if end is not None:
            legs[f"{o['leg']} leg ({o['venue']})"].append((end - o["request_us"]) / 1000)
    if not ttt and not legs:
        return Plot("latency", "Latency", None, "no latency data")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    if ttt:
        # Log-spaced bins: a few slow outliers must not squash the bulk into one bar.
        axes[0].hist(ttt, bins=_log_bins([float(v) for v in ttt]))
        _log_axis(axes[0])
        axes[0].set_title(f"tick-to-trade (n={len(ttt)})")
        axes[0].set_xlabel("microseconds (log scale)")
    # The same bins for every leg, so the bars compare.
    leg_bins = _log_bins([v for vals in legs.values() for v in vals])
    for name, vals in sorted(legs.items()):
        axes[1].hist(vals, bins=leg_bins, alpha=0.6, label=f"{name} n={len(vals)}")
    if legs:
        _log_axis(axes[1])
    axes[1].set_title(
        "request -> acknowledgement (or final state) per leg"
        if to_final
        else "request -> acknowledgement per leg"
    )
    axes[1].set_xlabel("milliseconds (log scale)")
    if legs:
        axes[1].legend(fontsize=7)
    return Plot(
        "latency",
        "Latency",
        _png(fig),
        points={"tick-to-trade": len(ttt), "legs": sum(len(v) for v in legs.values())},
    )


def slippage(conn: sqlite3.Connection) -> tuple[list[float], list[float]]:
    """One run's slippage per taken opportunity: expected average price vs. realized fill
    average, in bps (positive = worse than expected), buy legs and sell legs (per run:
    transaction and client order ids are a run's own)."""
    expected: dict[int, tuple[Decimal, Decimal]] = {}
    for o in journal.opportunities(conn):
        if o["tx_id"] is None:
            continue
        q = Decimal(o["qty"])
        if q > 0:
            expected[o["tx_id"]] = (Decimal(o["buy_cost"]) / q, Decimal(o["sell_proceeds"]) / q)
    realized: dict[tuple[int, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    leg_of = {o["client_order_id"]: (o["tx_id"], o["leg"]) for o in journal.orders(conn)}
    for f in journal.fills(conn):
        tx_leg = leg_of.get(f["client_order_id"])
        if not tx_leg or tx_leg[1] not in ("buy", "sell"):
            continue
        acc = realized[tx_leg]
        acc[0] += Decimal(f["quote_qty"])
        acc[1] += Decimal(f["qty"])
    buy_bps, sell_bps = [], []
    for tx_id, (exp_buy, exp_sell) in expected.items():
        b = realized.get((tx_id, "buy"))
        if b and b[1] > 0 and exp_buy > 0:
            buy_bps.append(float((b[0] / b[1] - exp_buy) / exp_buy * BPS))
        s = realized.get((tx_id, "sell"))
        if s and s[1] > 0 and exp_sell > 0:
            sell_bps.append(float((exp_sell - s[0] / s[1]) / exp_sell * BPS))
    return buy_bps, sell_bps


def slippage_plot(buy_bps: list[float], sell_bps: list[float]) -> Plot:
    if not buy_bps and not sell_bps:
        return Plot("slippage", "Slippage", None, "no filled legs")
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.hist([buy_bps, sell_bps], bins=30, label=["buy leg", "sell leg"])
    ax.set_xlabel("realized minus expected (bps, positive = worse)")
    ax.set_title("Slippage against the prices expected at detection")
    ax.legend(fontsize=8)
    return Plot(
        "slippage",
        "Slippage",
        _png(fig),
        points={"buy legs": len(buy_bps), "sell legs": len(sell_bps)},
    )


def outcome_plot(txs: list[journal.Transaction]) -> Plot:
    counts = Counter(t.outcome or "open" for t in txs)
    if not counts:
        return Plot("outcomes", "Outcomes", None, "no transactions")
    fig, ax = plt.subplots(figsize=(7, 3.0))
    names = sorted(counts, key=lambda k: -counts[k])
    ax.bar(names, [counts[n] for n in names])
    ax.set_title("Transactions by outcome")
    for i, n in enumerate(names):
        ax.text(i, counts[n], str(counts[n]), ha="center", va="bottom")
    return Plot("outcomes", "Outcomes", _png(fig), points=dict(counts))


def build(source: str | Path | list[journal.Run]) -> tuple[list[Plot], dict[str, str]]:
    """Renders every plot and a summary from one journal or every run's."""
    runs = source if isinstance(source, list) else [journal.Run(Path(source).stem, Path(source))]
    txs: list[journal.Transaction] = []
    spreads: list[journal.Quote] = []
    opps: list[sqlite3.Row] = []
    orders: list[sqlite3.Row] = []
    buy_bps: list[float] = []
    sell_bps: list[float] = []
    n_fills = 0
    per_run: list[str] = []
    for run in runs:
        with journal.open_journal(run.path) as conn:
            run_txs = journal.transactions(conn)
            txs += run_txs
            spreads += journal.spreads(conn)
            opps += journal.opportunities(conn)
            orders += journal.orders(conn)
            b, s = slippage(conn)
            buy_bps += b
            sell_bps += s
            n_fills += conn.execute("SELECT COUNT(*) FROM fills").fetchone()[0]
        per_run.append(f"{run.name} ({len(run_txs)})")
    plots = [
        *spread_plots(spreads, opps, txs),
        pnl_plot(txs),
        latency_plot(orders, txs),
        slippage_plot(buy_bps, sell_bps),
        outcome_plot(txs),
    ]
    pnl = sum((t.realized_pnl or Decimal(0) for t in txs), Decimal(0))
    fees = sum((t.fees_quote or Decimal(0) for t in txs), Decimal(0))
    summary = {
        "runs (transactions)": ", ".join(per_run),
        "transactions": str(len(txs)),
        "fills": str(n_fills),
        "realized PnL (quote, fees included)": str(pnl),
        "fees (quote)": str(fees),
    }
    if txs:
        outcomes = Counter(t.outcome or "open" for t in txs)
        summary["outcomes"] = ", ".join(f"{k} {n}" for k, n in outcomes.most_common())
        first = min(t.started_ms for t in txs)
        last = max(t.finished_ms or t.started_ms for t in txs)
        summary["trading window (UTC)"] = f"{_utc(first)} to {_utc(last)}"
    ttt = sorted(t.tick_to_trade_us for t in txs if t.tick_to_trade_us is not None)
    if ttt:
        summary["tick-to-trade p50 / p99 / max"] = (
            f"{_rank(ttt, 0.5)} / {_rank(ttt, 0.99)} / {ttt[-1]} us (n={len(ttt)})"
        )
    return plots, summary


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _rank(sorted_values: list[int], q: float) -> int:
    """The nearest-rank percentile of already sorted values."""
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def write_report(source: str | Path | list[journal.Run], out_dir: str | Path) -> Path:
    """Writes ``report.html`` (of one journal or every run's) into ``out_dir`` and returns
    its path."""
    plots, summary = build(source)
    paths = [r.path for r in source] if isinstance(source, list) else [source]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary.items()
    )
    sections = []
    for p in plots:
        if p.png is None:
            body = f"<p class='empty'>{html.escape(p.note)}</p>"
        else:
            data = base64.b64encode(p.png).decode("ascii")
            body = f"<img alt='{html.escape(p.title)}' src='data:image/png;base64,{data}'>"
        sections.append(
            f"<section id='{html.escape(p.key)}'><h2>{html.escape(p.title)}</h2>{body}</section>"
        )
    doc = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>arbhybrid report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: 4px 12px; border-bottom: 1px solid #ddd; text-align: left; }}
img {{ max-width: 100%; }} .empty {{ color: #888; }}
</style></head><body>
<h1>arbhybrid report</h1>
<p>Journals: {html.escape(", ".join(str(p) for p in paths))}</p>
<table>{rows}</table>
{"".join(sections)}
<script>
// For automated checks (headless Chromium): how many plots decoded, e.g. "7/7".
window.addEventListener("load", () => {{
  const imgs = [...document.images];
  const ok = imgs.filter((i) => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.imagesLoaded = ok + "/" + imgs.length;
}});
</script>
</body></html>
"""
    path = out / "report.html"
    path.write_text(doc, encoding="utf-8")
    return path
