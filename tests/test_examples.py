"""Issue 15 item 4: the examples run. ``examples/drive_engine.py`` starts the engine on the
simulator, watches its events, changes a parameter and stops; ``examples/custom_rule.py``
is plugged in from the configuration (``strategy.python_rules`` / ``python_hooks``) and
consulted by the main job; a rule that cannot be imported stops start-up, naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARB")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(EXAMPLES), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _config(tmp_path: Path, **strategy: Any) -> Path:
    """This checkout's config.yaml with ``strategy`` keys replaced, in its own folder."""
    data = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    data["strategy"].update(strategy)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _run(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_drive_engine_starts_watches_changes_a_parameter_and_stops(tmp_path: Path) -> None:
    r = _run(
        tmp_path,
        str(EXAMPLES / "drive_engine.py"),
        "--seconds",
        "8",
        "--journal",
        str(tmp_path / "journal.sqlite"),
        env=_env(),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    default = yaml.safe_load((REPO / "config.yaml").read_text())["strategy"]["min_edge_bps"]
    assert f"min_edge_bps now {default + 1}" in r.stdout, r.stdout
    assert "opportunity " in r.stdout, r.stdout  # events were watched
    assert "stopped: " in r.stdout, r.stdout


def test_custom_rule_and_hook_from_config_are_used_by_the_main_job(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        python_risk_mode="veto",
        python_rules=["custom_rule:max_notional"],
        python_hooks=["custom_rule:print_outcomes"],
    )
    # The rule lets nothing through: every trade is refused by it, none is sent.
    r = _run(
        tmp_path,
        "-m",
        "arbhybrid",
        "run",
        "--config",
        str(config),
        "--duration",
        "8",
        env=_env(CUSTOM_RULE_MAX_NOTIONAL="0"),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    hooked = [line for line in r.stdout.splitlines() if line.startswith("custom hook: ")]
    assert hooked, r.stdout  # the hook saw the opportunities
    assert all(line.endswith("opportunity: vetoed by python") for line in hooked), hooked
    assert "transactions:         none" in r.stdout, r.stdout  # nothing was sent


def test_a_rule_that_cannot_be_imported_stops_start_up_naming_it(tmp_path: Path) -> None:
    config = _config(
        tmp_path, python_rules=["custom_rule:max_notional", "no_such_module_xyz.rules:cap"]
    )
    r = _run(tmp_path, "-m", "arbhybrid", "run", "--config", str(config), env=_env())
    assert r.returncode == 2, r.stdout + r.stderr
    assert "strategy.python_rules[1]: cannot import 'no_such_module_xyz.rules:cap'" in r.stderr
    assert "No module named 'no_such_module_xyz'" in r.stderr, r.stderr
    assert not (tmp_path / "runs").exists()  # stopped before anything started
    # A name the module does not have, and a hook: each line names its key and entry.
    config = _config(
        tmp_path, python_rules=["custom_rule:no_such_rule"], python_hooks=["custom_rule:MAX"]
    )
    r = _run(tmp_path, "-m", "arbhybrid", "run", "--config", str(config), env=_env())
    assert r.returncode == 2, r.stdout + r.stderr
    assert "strategy.python_rules[0]: cannot import 'custom_rule:no_such_rule'" in r.stderr
    assert "strategy.python_hooks[0]: cannot import 'custom_rule:MAX'" in r.stderr
