"""arbhybrid: cross-exchange spot arbitrage for MEXC and Gate.io.

The hot path (feeds, books, detection, order submission, logging) is Rust, compiled into
``arbhybrid._native``; this package supplies configuration, strategy parameters, risk
rules and orchestration. Driving the engine from Python (see ``examples/``)::

    settings = arbhybrid.load_config("config.yaml")
    with arbhybrid.Simulator(arbhybrid.simulator_config(settings)) as sim:
        endpoints = arbhybrid.simulator_endpoints(sim)
        engine = await arbhybrid.RunningEngine.start(settings, endpoints, on_events=print)
        snap: arbhybrid.Snapshot = engine.snapshot()
        await engine.shutdown()

What is here:

- the engine handle: ``RunningEngine`` (start, snapshot, apply settings, veto rules,
  halt/resume, shutdown), ``VenueEndpoints``, ``simulator_endpoints``; the exchange
  simulator: ``Simulator``, ``simulator_config``;
- configuration: ``Settings`` and ``load_config``;
- what the engine reports: ``Snapshot``, the events ``EngineEvent`` (``OpportunityEvent``,
  ``TransactionEvent``, ``HaltedEvent``) and ``VetoRequest``, with the ``Rule`` a risk
  rule implements;
- the errors: every exception the package raises derives from ``ArbError``.
"""

from __future__ import annotations

import atexit
import importlib
from typing import TYPE_CHECKING, Any

from arbhybrid import _native, errors
from arbhybrid.errors import *  # noqa: F403  (every error, listed in errors.__all__)

if TYPE_CHECKING:
    from arbhybrid.config import Settings, load_config
    from arbhybrid.engine import RunningEngine, VenueEndpoints, simulator_endpoints
    from arbhybrid.rules import Rule
    from arbhybrid.simulator import Simulator
    from arbhybrid.simulator import config_from_settings as simulator_config
    from arbhybrid.types import (
        EngineEvent,
        HaltedEvent,
        OpportunityEvent,
        Snapshot,
        TransactionEvent,
        VetoRequest,
    )

__version__ = _native.__version__

# Stop every Rust task before the interpreter finalizes, so no runtime thread calls
# into a dying interpreter and exit never hangs.
atexit.register(_native.shutdown)

#: Imported on first use (``import arbhybrid`` stays light: the command line must be able
#: to stop quietly on a Ctrl-C at once, before pydantic and the rest are loaded).
_LAZY: dict[str, tuple[str, str]] = {
    "Settings": ("arbhybrid.config", "Settings"),
    "load_config": ("arbhybrid.config", "load_config"),
    "RunningEngine": ("arbhybrid.engine", "RunningEngine"),
    "VenueEndpoints": ("arbhybrid.engine", "VenueEndpoints"),
    "simulator_endpoints": ("arbhybrid.engine", "simulator_endpoints"),
    "Rule": ("arbhybrid.rules", "Rule"),
    "Simulator": ("arbhybrid.simulator", "Simulator"),
    "simulator_config": ("arbhybrid.simulator", "config_from_settings"),
    "EngineEvent": ("arbhybrid.types", "EngineEvent"),
    "HaltedEvent": ("arbhybrid.types", "HaltedEvent"),
    "OpportunityEvent": ("arbhybrid.types", "OpportunityEvent"),
    "Snapshot": ("arbhybrid.types", "Snapshot"),
    "TransactionEvent": ("arbhybrid.types", "TransactionEvent"),
    "VetoRequest": ("arbhybrid.types", "VetoRequest"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'arbhybrid' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "EngineEvent",
    "HaltedEvent",
    "OpportunityEvent",
    "Rule",
    "RunningEngine",
    "Settings",
    "Simulator",
    "Snapshot",
    "TransactionEvent",
    "VenueEndpoints",
    "VetoRequest",
    "__version__",
    "load_config",
    "simulator_config",
    "simulator_endpoints",
]
__all__ += errors.__all__
