"""The campaign's report: the fault table (per kind: actions, injected, detected,
recovered, time to recover), the accounting table and the verdict, as Markdown
(``table``) and as JSON (``as_dict``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from arbhybrid.campaign.accounting import Accounting
from arbhybrid.campaign.faults import KINDS, KindStats
from arbhybrid.venues import VENUES


@dataclass
class Report:
    """One campaign's results: what each fault kind did, the accounting, the findings."""

    command: str
    minutes: float
    symbols: int
    seed: int
    kinds: dict[str, KindStats]
    accounting: Accounting
    engine_runs: int = 0
    panics: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        a = self.accounting
        return {
            "command": self.command,
            "minutes": self.minutes,
            "symbols": self.symbols,
            "seed": self.seed,
            "wall_s": round(self.wall_s, 1),
            "engine_runs": self.engine_runs,
            "faults": [self.kinds[k].row(k) for k in KINDS if k in self.kinds],
            "accounting": {**a.__dict__, "clean": a.clean},
            "panics": self.panics,
            "findings": self.findings,
        }

    def table(self) -> str:
        rows = [self.kinds[k].row(k) for k in KINDS if k in self.kinds]
        head = ("fault", "actions", "injected", "detected", "recovered", "ttr p50 ms", "ttr max ms")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in rows:
            cells = [
                r["kind"],
                r["actions"],
                r["injected"],
                r["detected"],
                f"{r['recovered']}/{r['recovered'] + r['not_recovered']}",
                "-" if r["ttr_p50_ms"] is None else r["ttr_p50_ms"],
                "-" if r["ttr_max_ms"] is None else r["ttr_max_ms"],
            ]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        lines.append("")
        for r in rows:
            for note in r["notes"]:
                lines.append(f"- {r['kind']}: {note}")
        a = self.accounting
        lines += ["", "| accounting | " + " | ".join(VENUES) + " |", "|---|" + "---|" * len(VENUES)]

        def pair(d: dict[str, Any], fmt: Callable[[Any], str] = str) -> str:
            return " | ".join(fmt(d.get(v, 0)) for v in VENUES)

        n = len  # counts of id lists
        lines += [
            f"| orders intended (journal) | {pair(a.orders_journal)} |",
            f"| orders at the venue | {pair(a.orders_venue)} |",
            f"| venue orders unknown to the journal | "
            f"{pair(a.orders_at_venue_not_in_journal, lambda x: str(n(x or [])))} |",
            f"| orders left open | {pair(a.orders_open_at_venue, lambda x: str(n(x or [])))} |",
            f"| journal order rows left in flight | "
            f"{pair(a.journal_status_not_final, lambda x: str(n(x or [])))} |",
            f"| fills at the venue | {pair(a.fills_venue)} |",
            f"| fills in the journal | {pair(a.fills_journal)} |",
            f"| fills lost | {pair(a.fills_lost, lambda x: str(n(x or [])))} |",
            f"| fills duplicated | {pair(a.fills_duplicated, lambda x: str(n(x or [])))} |",
            f"| journal fills not at the venue | "
            f"{pair(a.fills_extra, lambda x: str(n(x or [])))} |",
        ]
        outcome_text = ", ".join(f"{k} {v}" for k, v in sorted(a.outcomes.items()))
        verdict = "NOTHING LOST, NOTHING DUPLICATED" if a.clean else "DISCREPANCIES (see findings)"
        lines += [
            "",
            f"transactions: {a.transactions} ({outcome_text}); "
            f"unfinished: {len(a.unfinished_transactions)}; closed flat but not flat per "
            f"their fills: {len(a.positions_left)}",
            f"balance changes, venue vs. journal fills (every venue and asset): "
            f"{'equal' if not a.balance_mismatches else '; '.join(a.balance_mismatches)}",
            f"PnL per the engine (journal, realized): {a.pnl_engine}; per the venues "
            f"(balance deltas): {a.pnl_venue} {a.pnl_venue_note}",
            f"engine runs: {self.engine_runs}; panics: {len(self.panics)}; verdict: {verdict}",
        ]
        for f in self.findings:
            lines.append(f"FINDING: {f}")
        return "\n".join(lines)
