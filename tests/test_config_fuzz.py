"""Fuzzing the configuration loader (hypothesis): random YAML text, the real
config.yaml with values replaced, keys removed or added, random ``ARB__`` environment
overrides and placeholders. Every input gives Settings or a ConfigError whose problems
are non-empty lines; never another exception, never a secret in the message.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbhybrid.config import ConfigError, Settings, load_config

REPO = Path(__file__).resolve().parents[1]
BASE: dict[str, Any] = yaml.safe_load((REPO / "config.yaml").read_text())
SECRET = "s3cr3t-VALUE-never-shown"

leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["${X}", "${X:-5}", "${", "}", "NaN", "-1", "1e400", "0.0000000000000000001"]),
)
value = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def _paths(d: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix] if prefix else []
    if isinstance(d, dict):
        for k, v in d.items():
            out += _paths(v, (*prefix, str(k)))
    return out


PATHS = _paths(BASE)


@st.composite
def mutated_config(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(PATHS))
        node = data
        for k in path[:-1]:
            if not isinstance(node, dict) or k not in node:
                break
            node = node[k]
        else:
            if isinstance(node, dict):
                action = draw(st.sampled_from(["replace", "delete", "add"]))
                if action == "replace":
                    node[path[-1]] = draw(value)
                elif action == "delete":
                    node.pop(path[-1], None)
                else:
                    node[draw(st.text(min_size=1, max_size=10))] = draw(value)
    return data


def check(tmp: Path, text: str, environ: dict[str, str]) -> None:
    p = tmp / "config.yaml"
    p.write_text(text, encoding="utf-8")
    try:
        s = load_config(p, environ=environ)
    except ConfigError as e:
        assert e.problems, "a ConfigError without problems"
        assert all(isinstance(x, str) and x.strip() for x in e.problems), e.problems
        assert SECRET not in str(e)
        return
    assert isinstance(s, Settings)
    assert SECRET not in repr(s) and SECRET not in str(s.model_dump())


def _no_path_in_overlay(env: dict[str, str]) -> dict[str, str]:
    # ARB_ENV with a path separator is a known finding (test below), kept out of the
    # general properties so they keep looking for others.
    if "ARB_ENV" in env:
        env = {**env, "ARB_ENV": env["ARB_ENV"].replace("/", "_")}
    return env


_ENV = st.dictionaries(
    st.sampled_from(
        [
            "ARB__STRATEGY__MIN_EDGE_BPS",
            "ARB__RISK__MAX_OPEN_ARBITRAGES",
            "ARB__STRATEGY__SYMBOLS",
            "ARB__MARKET_DATA__STALENESS_MS",
            "ARB__JOURNAL",
            "ARB__",
            "ARB__X__Y__Z",
            "ARB_ENV",
            "MEXC_API_KEY",
        ]
    ),
    st.one_of(st.text(max_size=20), st.just("[a, b"), st.just("{x: 1}")),
    max_size=4,
)
# The secret goes only where a secret belongs; every message must hide it.
ENV = st.tuples(_ENV.map(_no_path_in_overlay), st.booleans()).map(
    lambda t: {**t[0], **({"MEXC_API_SECRET": SECRET, "GATEIO_API_SECRET": SECRET} if t[1] else {})}
)

FUZZ = settings(
    max_examples=int(os.environ.get("ARB_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(data=mutated_config(), environ=ENV)
def test_mutated_config_gives_settings_or_config_error(
    tmp_path: Path, data: dict[str, Any], environ: dict[str, str]
) -> None:
    check(tmp_path, yaml.safe_dump(data), environ)


@FUZZ
@given(text=st.text(max_size=300), environ=ENV)
def test_random_text_gives_config_error(tmp_path: Path, text: str, environ: dict[str, str]) -> None:
    check(tmp_path, text, environ)


@FUZZ
@given(
    cut=st.integers(0, len((REPO / "config.yaml").read_text())),
    junk=st.text(max_size=8),
    environ=ENV,
)
def test_config_cut_short_or_with_junk_gives_settings_or_config_error(
    tmp_path: Path, cut: int, junk: str, environ: dict[str, str]
) -> None:
    text = (REPO / "config.yaml").read_text()
    check(tmp_path, text[:cut] + junk + text[cut:], environ)


@pytest.mark.parametrize("overlay", ["/", "a/b", "..", "prod.yaml"])
def test_overlay_name_with_a_path_separator_is_a_config_error(overlay: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(REPO / "config.yaml", environ={"ARB_ENV": overlay})
    assert e.value.problems[0].startswith(f"ARB_ENV={overlay!r}")
