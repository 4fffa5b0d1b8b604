"""The venues the engine trades, in the order tables and loops show them: the one list
every Python module takes them from."""

from __future__ import annotations

VENUES: tuple[str, ...] = ("mexc", "gateio")
