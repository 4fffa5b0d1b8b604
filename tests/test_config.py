"""Configuration: placeholders, overlays, overrides, schema errors, secrets, hot reload."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from arbhybrid.config import ConfigError, LiveConfig, load_config

REPO = Path(__file__).resolve().parents[1]

BASE = textwrap.dedent(
    """
    mode: sim
    exchanges:
      mexc:
        api_key: ${MEXC_KEY:-}
        api_secret: ${MEXC_SECRET:-}
        rest_url: ${MEXC_URL:-https://api.mexc.com}
        ws_url: wss://wbs-api.mexc.com/ws
        rate_limit: true
      gateio:
        api_key: ${GATE_KEY:-}
        api_secret: ${GATE_SECRET:-}
        rest_url: https://api.gateio.ws/api/v4
        ws_url: wss://api.gateio.ws/ws/v4/
        pool_size: 10
    strategy:
      symbols: [BTC/USDT]
      min_edge_bps: ${EDGE:-5}
      trade_notional: "100"
    risk:
      max_position_per_asset: "1"
      max_total_exposure: "1000"
      max_notional_per_trade: "100"
      daily_loss_limit: "10"
      max_open_arbitrages: 1
    """
)


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_committed_config_is_valid_and_holds_no_key() -> None:
    s = load_config(REPO / "config.yaml", environ={})
    assert s.mode == "sim"
    assert not s.exchanges.mexc.has_keys and not s.exchanges.gateio.has_keys
    assert s.strategy.symbols


def test_placeholders_and_defaults(tmp_path: Path) -> None:
    p = write(tmp_path, BASE)
    s = load_config(p, environ={"EDGE": "7.5", "MEXC_URL": "http://127.0.0.1:9/"})
    assert str(s.strategy.min_edge_bps) == "7.5"
    assert s.exchanges.mexc.rest_url == "http://127.0.0.1:9"  # trailing slash normalised
    s2 = load_config(p, environ={})
    assert str(s2.strategy.min_edge_bps) == "5"
    assert s2.exchanges.mexc.rest_url == "https://api.mexc.com"


def test_missing_variable_names_variable_and_key(tmp_path: Path) -> None:
    p = write(tmp_path, BASE.replace("${EDGE:-5}", "${EDGE_REQUIRED}"))
    with pytest.raises(ConfigError) as e:
        load_config(p, environ={})
    assert e.value.problems == [
        "strategy.min_edge_bps: environment variable EDGE_REQUIRED is not set (and the "
        "placeholder has no default; write ${EDGE_REQUIRED:-value} to give one)"
    ]


def test_unknown_key_and_wrong_type_rejected_with_paths(tmp_path: Path) -> None:
    text = BASE.replace("max_open_arbitrages: 1", "max_open_arbitrages: lots").replace(
        "pool_size: 10", "pool_size: 10\n    burst: 3"
    )
    p = write(tmp_path, text + "strategy_typo: 1\n")
    with pytest.raises(ConfigError) as e:
        load_config(p, environ={})
    problems = e.value.problems
    assert "exchanges.gateio.burst: unknown key" in problems
    assert "strategy_typo: unknown key" in problems
    assert any(p.startswith("risk.max_open_arbitrages: ") and "integer" in p for p in problems)
    assert len(problems) == 3


def test_bad_url_and_bad_yaml(tmp_path: Path) -> None:
    p = write(tmp_path, BASE.replace("wss://api.gateio.ws/ws/v4/", "api.gateio.ws"))
    with pytest.raises(ConfigError) as e:
        load_config(p, environ={})
    assert e.value.problems == ["exchanges.gateio.ws_url: must start with ws:// or wss://"]
    bad = write(tmp_path, "mode: [unclosed\n", "bad.yaml")
    with pytest.raises(ConfigError) as e:
        load_config(bad, environ={})
    assert "invalid YAML" in e.value.problems[0]


def test_overlay_and_env_override(tmp_path: Path) -> None:
    p = write(tmp_path, BASE)
    write(tmp_path, "strategy:\n  min_edge_bps: 9\n  cooldown_ms: 50\n", "config.prod.yaml")
    s = load_config(p, environ={"ARB_ENV": "prod"})
    assert str(s.strategy.min_edge_bps) == "9" and s.strategy.cooldown_ms == 50
    assert s.strategy.symbols == ["BTC/USDT"]  # untouched keys survive the merge
    s = load_config(p, environ={"ARB_ENV": "prod", "ARB__STRATEGY__MIN_EDGE_BPS": "11"})
    assert str(s.strategy.min_edge_bps) == "11"
    with pytest.raises(ConfigError) as e:
        load_config(p, environ={"ARB_ENV": "staging"})
    assert "config.staging.yaml does not exist" in e.value.problems[0]


def test_dotenv_is_read_but_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = write(tmp_path, BASE)
    (tmp_path / ".env").write_text(
        "MEXC_KEY=from-dotenv-key\nMEXC_SECRET=from-dotenv-secret\nEDGE=3\n"
    )
    monkeypatch.setenv("EDGE", "4")
    for v in ("MEXC_KEY", "MEXC_SECRET"):
        monkeypatch.delenv(v, raising=False)
    s = load_config(p)
    assert s.exchanges.mexc.api_key.get_secret_value() == "from-dotenv-key"
    assert str(s.strategy.min_edge_bps) == "4"


SECRET = "sk-live-7f3a9c1e5b2d"


def test_secrets_masked_in_repr_and_errors(tmp_path: Path) -> None:
    p = write(tmp_path, BASE)
    s = load_config(p, environ={"MEXC_KEY": SECRET, "MEXC_SECRET": SECRET + "x"})
    assert s.exchanges.mexc.has_keys
    for text in (repr(s), str(s), repr(s.exchanges.mexc), str(s.masked())):
        assert SECRET not in text
    # A validation error elsewhere in the same file never echoes the secret.
    p2 = write(tmp_path, BASE.replace("pool_size", "x") + "extra: 1\n", "c2.yaml")
    with pytest.raises(ConfigError) as e:
        load_config(p2, environ={"MEXC_KEY": SECRET, "MEXC_SECRET": SECRET})
    assert SECRET not in str(e.value)


def run_cli(
    *args: str, env_extra: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARB", "MEXC", "GATE"))}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "arbhybrid", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


def test_config_check_cli_masks_secrets_and_exits_0() -> None:
    r = run_cli("config", "check", env_extra={"MEXC_API_KEY": SECRET, "MEXC_API_SECRET": SECRET})
    assert r.returncode == 0, r.stderr
    assert SECRET not in r.stdout + r.stderr
    assert "api_key: '**********'" in r.stdout
    assert "min_edge_bps:" in r.stdout


def test_config_check_cli_invalid_exits_2_one_line_per_problem(tmp_path: Path) -> None:
    p = write(
        tmp_path, BASE.replace("max_open_arbitrages: 1", "max_open_arbitrages: -1") + "bogus: 1\n"
    )
    r = run_cli("config", "check", "--config", str(p))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert sorted(lines) == sorted(
        [
            "bogus: unknown key",
            "risk.max_open_arbitrages: Input should be greater than 0",
        ]
    )


def test_cli_usage_errors_exit_2() -> None:
    assert run_cli("--help").returncode == 0
    assert run_cli("config", "frobnicate").returncode == 2
    assert run_cli("run", "--no-such-flag").returncode == 2


def test_live_reload_applies_threshold_and_audits(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    p = write(tmp_path, BASE)
    live = LiveConfig(p, environ={})
    seen = []
    live.subscribe(lambda s, changes: seen.append((s.strategy.min_edge_bps, changes)))
    caplog.set_level(logging.INFO, logger="arbhybrid.config")
    p.write_text(
        BASE.replace("${EDGE:-5}", "8").replace('daily_loss_limit: "10"', 'daily_loss_limit: "20"')
    )
    applied = live.reload()
    assert set(applied) == {"strategy.min_edge_bps", "risk.daily_loss_limit"}
    assert str(live.current.strategy.min_edge_bps) == "8"
    assert str(live.current.risk.daily_loss_limit) == "20"
    assert seen and str(seen[0][0]) == "8"
    audit = [r.getMessage() for r in caplog.records]
    assert "config change strategy.min_edge_bps: 5 -> 8" in audit
    assert "config change risk.daily_loss_limit: 10 -> 20" in audit


def test_live_reload_refuses_api_key_until_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    p = write(tmp_path, BASE)
    env = {"MEXC_KEY": "old-key-123", "MEXC_SECRET": "s"}
    live = LiveConfig(p, environ=env)
    caplog.set_level(logging.INFO, logger="arbhybrid.config")
    env["MEXC_KEY"] = "new-key-456"
    p.write_text(
        BASE.replace("${EDGE:-5}", "6").replace(
            "https://api.gateio.ws/api/v4", "https://evil.example/api/v4"
        )
    )
    applied = live.reload()
    assert set(applied) == {"strategy.min_edge_bps"}
    assert live.current.exchanges.mexc.api_key.get_secret_value() == "old-key-123"
    assert live.current.exchanges.gateio.rest_url == "https://api.gateio.ws/api/v4"
    msgs = [r.getMessage() for r in caplog.records]
    assert any("exchanges.mexc.api_key refused" in m and "restart" in m for m in msgs)
    assert any("exchanges.gateio.rest_url refused" in m for m in msgs)
    assert not any("new-key-456" in m or "old-key-123" in m for m in msgs)


def test_live_reload_keeps_running_config_on_invalid_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    p = write(tmp_path, BASE)
    live = LiveConfig(p, environ={})
    p.write_text(BASE.replace("max_open_arbitrages: 1", "max_open_arbitrages: zero"))
    assert live.reload() == {}
    assert live.current.risk.max_open_arbitrages == 1
    assert any("risk.max_open_arbitrages" in r.getMessage() for r in caplog.records)
