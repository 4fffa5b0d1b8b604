"""A risk rule and an event hook, as a user of arbhybrid would write them.

Name them in the configuration (the module must be importable: installed, or its folder
on ``PYTHONPATH``)::

    strategy:
      python_risk_mode: veto                    # Python approves each trade
      python_rules: ["custom_rule:max_notional"]
      python_hooks: ["custom_rule:print_outcomes"]

    PYTHONPATH=examples python -m arbhybrid run --duration 30

A rule name that cannot be imported stops start-up (exit 2) with a line naming it.
"""

from __future__ import annotations

import os
from decimal import Decimal

from arbhybrid import EngineEvent, VetoRequest

#: The largest buy notional (quote) this rule lets through; the environment may lower it.
MAX_NOTIONAL = Decimal(os.environ.get("CUSTOM_RULE_MAX_NOTIONAL", "50"))


def max_notional(req: VetoRequest) -> bool:
    """Approves a trade only if its buy notional is at most ``MAX_NOTIONAL``. The request
    carries exact decimal strings: compute with ``Decimal``, never ``float``."""
    return Decimal(req["notional"]) <= MAX_NOTIONAL


def print_outcomes(ev: EngineEvent) -> None:
    """Prints each opportunity's decision and each transaction's outcome."""
    if ev["type"] == "opportunity":
        print(f"custom hook: {ev['symbol']} opportunity: {ev['decision']}", flush=True)
    elif ev["type"] == "transaction":
        print(
            f"custom hook: {ev['symbol']} transaction {ev['tx_id']} {ev['outcome']} "
            f"pnl {ev['realized_pnl']}",
            flush=True,
        )
