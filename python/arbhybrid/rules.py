"""Python risk rules: callbacks consulted in ``veto`` mode before each trade is sent.

A rule takes the trade request (``symbol``, ``buy``, ``sell``, ``qty``, ``notional``,
``edge_bps`` as decimal strings) and returns True to approve it. Rules are a second line
of defence on top of the Rust limits; write your own and install it with
``RunningEngine.set_veto``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from arbhybrid.config import Settings
from arbhybrid.types import VetoRequest

#: Approves (True) or refuses one trade.
Rule = Callable[[VetoRequest], bool]


def edge_floor(min_edge_bps: Decimal) -> Rule:
    """Refuses trades whose expected edge (after fees) is below ``min_edge_bps``."""

    def rule(req: VetoRequest) -> bool:
        return Decimal(req["edge_bps"]) >= min_edge_bps

    return rule


def notional_cap(max_notional: Decimal) -> Rule:
    """Refuses trades whose buy notional exceeds ``max_notional``."""

    def rule(req: VetoRequest) -> bool:
        return Decimal(req["notional"]) <= max_notional

    return rule


def all_of(*rules: Rule) -> Rule:
    def rule(req: VetoRequest) -> bool:
        return all(r(req) for r in rules)

    return rule


def default_rules(settings: Settings) -> Rule:
    """The rules installed by ``python -m arbhybrid`` in veto mode: the configured
    minimum edge and per-trade notional, re-checked in Python."""
    return all_of(
        edge_floor(settings.strategy.min_edge_bps),
        notional_cap(settings.risk.max_notional_per_trade),
    )
