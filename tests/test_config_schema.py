"""Issue 15 item 4: one configuration schema. The pydantic model (``arbhybrid.config``) is
the source of what Python hands the engine; the Rust engine's serde structs
(``rust/engine``, ``rust/exec``, ``rust/market``) must accept exactly that. Checked both
ways: the engine parses what pydantic emits for a full configuration (its structs reject
unknown keys), and every Rust field the engine requires has a pydantic source (read
from the Rust sources, so a field added on one side only fails here)."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest

import arbhybrid
from arbhybrid import _native
from arbhybrid.config import KillSwitches, RiskConfig, StrategyConfig
from arbhybrid.engine import PYTHON_ONLY_STRATEGY, VenueEndpoints, engine_config
from test_engine_acceptance import settings_for_test

REPO = Path(__file__).resolve().parents[1]


def rust_fields(struct: str, crate: str) -> dict[str, bool]:
    """Serde keys of ``pub struct <struct>`` in ``rust/<crate>/src`` -> whether the key may
    be left out (``#[serde(default)]`` on the field or the struct, or an ``Option``)."""
    for path in sorted((REPO / "rust" / crate / "src").rglob("*.rs")):
        m = re.search(
            rf"((?:#\[[^\n]*\]\n)*)pub struct {struct} \{{\n(.*?)\n\}}",
            path.read_text(encoding="utf-8"),
            re.S,
        )
        if m:
            break
    else:
        raise AssertionError(f"pub struct {struct} not found under rust/{crate}/src")
    struct_default = re.search(r"#\[serde\([^\]]*\bdefault\b", m.group(1)) is not None
    fields: dict[str, bool] = {}
    attrs: list[str] = []
    for raw in m.group(2).splitlines():
        line = raw.strip()
        if line.startswith("#["):
            attrs.append(line)
        elif line.startswith("pub "):
            fm = re.match(r"pub (\w+):\s*(.*)", line)
            assert fm, line
            a = " ".join(attrs)
            rename = re.search(r'rename = "(\w+)"', a)
            optional = struct_default or re.search(r"\bdefault\b", a) is not None
            fields[rename.group(1) if rename else fm.group(1)] = optional or fm.group(2).startswith(
                "Option<"
            )
            attrs = []
    assert fields, f"no fields parsed from {struct}"
    return fields


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _full_config(journal: Path) -> dict[str, Any]:
    # Python-only keys set too: they must not reach the engine.
    settings = settings_for_test(python_rules=["custom_rule:max_notional"], python_hooks=[])
    port = _closed_port()
    ep = VenueEndpoints(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", "k", "s")
    cfg: dict[str, Any] = json.loads(
        engine_config(settings, {"mexc": ep, "gateio": ep}, journal_path=str(journal))
    )
    return cfg


async def test_the_engine_accepts_everything_pydantic_emits(tmp_path: Path) -> None:
    """Parsed by the engine's own structs (unknown keys rejected): what fails afterwards
    is connecting to the closed port, a start-up error, never the configuration."""
    cfg = _full_config(tmp_path / "journal.sqlite")
    with pytest.raises(arbhybrid.StartupError):
        await _native.start_engine(json.dumps(cfg))
    # The check can fail: an extra key anywhere is refused by name.
    strategy = dict(cfg["strategy"])
    strategy["python_rules"] = ["x:y"]
    with pytest.raises(arbhybrid.InvalidValueError, match="python_rules"):
        await _native.start_engine(json.dumps({**cfg, "strategy": strategy}))


def test_every_engine_field_has_a_pydantic_source(tmp_path: Path) -> None:
    cfg = _full_config(tmp_path / "journal.sqlite")
    # Sections the engine takes whole from pydantic: the same keys, both ways.
    for struct, model, exclude in (
        ("StrategyConfig", StrategyConfig, PYTHON_ONLY_STRATEGY),
        ("RiskConfig", RiskConfig, frozenset()),
        ("KillSwitchConfig", KillSwitches, frozenset()),
    ):
        python_keys = set(model.model_fields) - exclude
        assert set(rust_fields(struct, "engine")) == python_keys, struct
    assert set(cfg["strategy"]) == set(rust_fields("StrategyConfig", "engine"))
    # Built field by field in engine_config: every key is a Rust field, every required
    # Rust field is there (the rest keep the engine's defaults).
    for struct, crate, emitted in (
        ("EngineConfig", "engine", cfg),
        ("FeedConfig", "market", cfg["feed"]),
        *(("VenueConfig", "exec", v) for v in cfg["venues"]),
        ("HotConfig", "engine", cfg["hot"]),
    ):
        fields = rust_fields(struct, crate)
        keys = set(emitted)
        assert keys <= set(fields), (struct, keys - set(fields))
        required = {k for k, optional in fields.items() if not optional}
        assert required <= keys, (struct, required - keys)
