"""Values as people read them: amounts at their asset's precision, durations in a unit
that keeps them short, start-up times as a sentence. Shared by the status line, the
summary and the dashboard; the exact values stay in the journal and the snapshot.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from arbhybrid.types import LatencyView, StartupView

#: Decimals shown per asset. Quote currencies are stablecoins, where a millionth is far
#: below a fee; base assets keep the eight places both venues' balances have.
ASSET_PLACES: dict[str, int] = {"USDT": 6, "USDC": 6, "USD": 6}
DEFAULT_PLACES = 8


def places_of(asset: str | None) -> int:
    """How many decimals ``asset`` is shown with."""
    return ASSET_PLACES.get(asset or "", DEFAULT_PLACES)


def amount(text: str | None, places: int = 4) -> str:
    """A decimal string rounded for display (half-even); ``-`` when absent."""
    if text is None:
        return "-"
    try:
        return f"{Decimal(text):.{places}f}"  # half-even, the context's rounding
    except InvalidOperation:
        return str(text)


def asset_amount(text: str | None, asset: str | None) -> str:
    """``amount`` at ``asset``'s precision, followed by the asset's name when known."""
    shown = amount(text, places_of(asset))
    return f"{shown} {asset}" if asset and text is not None else shown


def micros(us: int | None) -> str:
    """A duration in microseconds, shown in the unit that keeps it short."""
    if us is None:
        return "-"
    if us < 1000:
        return f"{us} µs"
    if us < 1_000_000:
        return f"{us / 1000:.1f} ms"
    return f"{us / 1_000_000:.2f} s"


def latency(h: LatencyView) -> str:
    """``p50 120 µs, p99 1.4 ms over 12``, or ``—`` before the first sample."""
    if not h["count"]:
        return "—"
    return f"p50 {micros(h['p50_us'])}, p99 {micros(h['p99_us'])} over {h['count']}"


def startup_times(s: StartupView) -> str:
    """``venues 120 ms, engine 310 ms``: when both venues were ready (clients,
    credentials and symbol lists, fetched at once) and when the engine was ready to trade,
    from its start."""
    parts = [f"venues {s['venues_ms']} ms"]
    if "engine_ms" in s:
        parts.append(f"engine {s['engine_ms']} ms")
    return ", ".join(parts)


def quote_asset(symbols: list[str]) -> str | None:
    """The quote asset PnL and fees are in: the one every symbol shares, else None."""
    quotes = {s.partition("/")[2] for s in symbols}
    return quotes.pop() if len(quotes) == 1 else None
