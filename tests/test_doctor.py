"""Issue 17 item 8: ``python -m arbhybrid doctor``, the preflight for real keys, against
the simulator: read-only calls only (no order reaches the venue), one line per check, exit
0 when nothing is wrong; a key without trade permission exits non-zero naming the venue
and the permission; a symbol that refuses API market orders is shown with that rule."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.test_cli_user import checkout, cli


def doctor(tmp_path: Path, **simulator: object) -> tuple[int, str]:
    config = checkout(tmp_path)
    data = yaml.safe_load(config.read_text())
    data["strategy"]["symbols"] = ["BTC/USDT", "ETH/USDT", "KAS/USDT"]
    data["simulator"].update(simulator)
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    r = cli(tmp_path, "doctor", "--config", str(config))
    return r.returncode, r.stdout + r.stderr


def test_doctor_on_the_embedded_simulator_prints_every_check_and_exits_0(
    tmp_path: Path,
) -> None:
    code, out = doctor(tmp_path)
    assert code == 0, out
    lines = out.splitlines()
    for venue in ("mexc", "gateio"):
        for check in ("connectivity", "clock", "key", "permissions", "balance", "rate limits"):
            assert any(f" {venue} {check}:" in line for line in lines), (venue, check, out)
    for symbol in ("BTC/USDT", "ETH/USDT", "KAS/USDT"):
        for check in ("rules", "trade size", "fees"):
            for venue in ("mexc", "gateio"):
                assert f" {symbol} {venue} {check}:" in out, (symbol, venue, check, out)
    # The symbol whose MEXC market orders are disabled shows it.
    kas = next(x for x in lines if " KAS/USDT mexc rules:" in x)
    assert "market orders no" in kas, kas
    fees = next(x for x in lines if " BTC/USDT gateio fees:" in x)
    assert "taker 0.001" in fees and "fee token: off" in fees, fees
    assert "FAIL" not in out, out
    assert any(x.startswith("doctor: no problems") for x in lines), out


def test_doctor_with_a_key_without_trade_permission_exits_non_zero_naming_it(
    tmp_path: Path,
) -> None:
    code, out = doctor(tmp_path, read_only_keys=["mexc"])
    assert code != 0, out
    fail = [x for x in out.splitlines() if x.startswith("FAIL")]
    assert fail == ["FAIL mexc permissions: trade permission: not enabled for this key"], out
    assert "doctor: 1 problem(s): mexc permissions" in out, out


def test_doctor_names_a_symbol_no_two_venues_list(tmp_path: Path) -> None:
    config = checkout(tmp_path)
    data = yaml.safe_load(config.read_text())
    data["strategy"]["symbols"] = ["FOO/BAR", "BTC/USDT", "PEPE/USDT"]
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    r = cli(tmp_path, "doctor", "--config", str(config))
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "FAIL FOO/BAR listed: not listed on mexc, gateio" in out, out
    assert "PEPE/USDT mexc rules:" in out and "left out: not tradable through the API" in out, out
    assert "FAIL PEPE/USDT tradable" in out, out


async def test_doctor_sends_no_order(tmp_path: Path) -> None:
    """Read-only: after every check the venues hold no order of the account."""
    from arbhybrid.config import load_config
    from arbhybrid.doctor import problems, run_checks
    from arbhybrid.engine import simulator_endpoints
    from arbhybrid.simulator import Simulator, config_from_settings
    from tests.test_cli_user import REPO

    settings = load_config(REPO / "config.yaml", environ={})
    with Simulator(config_from_settings(settings)) as sim:
        checks = await run_checks(settings, simulator_endpoints(sim))
        assert not problems(checks), [c.line() for c in checks]
        assert sim.orders("mexc") == [] and sim.orders("gateio") == []
        assert sim.fills("mexc") == [] and sim.fills("gateio") == []
