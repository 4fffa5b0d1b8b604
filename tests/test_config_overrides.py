"""``ARB__`` environment overrides are taken as the string they are and converted by the
schema: YAML would cut a secret at `` #`` (a comment), turn ``0123`` into 123 and
``yes`` into True. Only keys the schema types as a list or mapping are read as YAML."""

from __future__ import annotations

from pathlib import Path

from arbhybrid.config import load_config
from tests.test_config import BASE, write


def test_an_override_is_the_string_it_is(tmp_path: Path) -> None:
    p = write(tmp_path, BASE)
    s = load_config(
        p,
        environ={
            "ARB__EXCHANGES__MEXC__API_SECRET": "s3cr3t #tail: [x]",
            "ARB__EXCHANGES__GATEIO__API_KEY": "0123",
            "ARB__LOGGING__FILE": "runs/a #1.log",
        },
    )
    assert s.exchanges.mexc.api_secret.get_secret_value() == "s3cr3t #tail: [x]"
    assert s.exchanges.gateio.api_key.get_secret_value() == "0123"
    # Relative paths resolve against the configuration's folder.
    assert s.logging.file == str(p.parent / "runs" / "a #1.log")


def test_scalars_are_converted_by_the_schema_and_lists_still_parse(tmp_path: Path) -> None:
    p = write(tmp_path, BASE)
    s = load_config(
        p,
        environ={
            "ARB__STRATEGY__MIN_EDGE_BPS": "7.5",
            "ARB__STRATEGY__COOLDOWN_MS": "50",
            "ARB__STRATEGY__SYMBOLS": '["BTC/USDT", "ETH/USDT"]',
        },
    )
    assert str(s.strategy.min_edge_bps) == "7.5" and s.strategy.cooldown_ms == 50
    assert s.strategy.symbols == ["BTC/USDT", "ETH/USDT"]
