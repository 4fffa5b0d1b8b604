"""Python risk rules and event hooks.

A **rule** is consulted in ``veto`` mode before each trade is sent: it takes the trade
request (:class:`~arbhybrid.types.VetoRequest`: ``symbol``, ``buy``, ``sell`` and the
decimal strings ``qty``, ``notional``, ``edge_bps``) and returns True to approve it.
Rules are a second line of defence on top of the Rust limits. A **hook** is called with
every engine event (:data:`~arbhybrid.types.EngineEvent`).

Write your own and name them in the configuration (``strategy.python_rules`` and
``strategy.python_hooks``, each ``"module:function"``; see ``examples/custom_rule.py``),
or install a rule yourself with ``RunningEngine.set_veto``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arbhybrid.config import Settings
from arbhybrid.errors import ConfigError
from arbhybrid.types import EngineEvent, VetoRequest

#: Approves (True) or refuses one trade.
Rule = Callable[[VetoRequest], bool]
#: Told of one engine event.
Hook = Callable[[EngineEvent], object]


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


def default_rules(settings: Settings, extra: Sequence[Rule] = ()) -> Rule:
    """The rules installed by ``python -m arbhybrid`` in veto mode: the configured
    minimum edge and per-trade notional, re-checked in Python, then ``extra`` (the
    configured ``strategy.python_rules``) in order."""
    return all_of(
        edge_floor(settings.strategy.min_edge_bps),
        notional_cap(settings.risk.max_notional_per_trade),
        *extra,
    )


@dataclass(frozen=True)
class Plugins:
    """The user's rules and hooks named in the configuration, imported."""

    rules: tuple[Rule, ...] = ()
    hooks: tuple[Hook, ...] = ()


def load_plugins(settings: Settings) -> Plugins:
    """Imports ``strategy.python_rules`` and ``strategy.python_hooks``. Raises
    :class:`ConfigError` with one line per entry that cannot be imported or is not
    callable, each naming its key and the entry."""
    problems: list[str] = []
    rules = _load_all("strategy.python_rules", settings.strategy.python_rules, problems)
    hooks = _load_all("strategy.python_hooks", settings.strategy.python_hooks, problems)
    if problems:
        raise ConfigError(problems)
    return Plugins(rules=tuple(rules), hooks=tuple(hooks))


def _load_all(key: str, specs: Sequence[str], problems: list[str]) -> list[Any]:
    loaded = []
    for i, spec in enumerate(specs):
        try:
            loaded.append(load_callable(spec))
        except Exception as e:  # whatever the module raised while importing, too
            problems.append(f"{key}[{i}]: cannot import {spec!r}: {type(e).__name__}: {e}")
    return loaded


def load_callable(spec: str) -> Callable[..., Any]:
    """The callable ``"module:name"`` names (``name`` may be dotted). Raises
    ``ImportError`` / ``AttributeError`` if it does not exist and ``TypeError`` if it
    is not callable."""
    module_name, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"{attr} is a {type(obj).__name__}, not a function")
    return obj  # type: ignore[no-any-return]
