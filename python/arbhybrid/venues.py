"""The venues of the default configuration (``exchanges: {mexc, gateio}``), in the order
tables show them. A configuration may name others (``mexc_b: {kind: mexc}``): code that
runs against one reads its venues from it (``settings.exchanges.enabled()``, a snapshot's
``venues``, ``sim.endpoints.venues``); this list is for what only ever knows the
default pair."""

from __future__ import annotations

VENUES: tuple[str, ...] = ("mexc", "gateio")
