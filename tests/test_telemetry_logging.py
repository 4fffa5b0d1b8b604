"""Python and Rust records in one ring: the logging handler, the direct logger, levels,
settings, exact drop accounting and file rotation, read back from the real files."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from arbhybrid import _native, telemetry
from arbhybrid.config import load_config

REPO = Path(__file__).resolve().parents[1]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def restore_defaults() -> None:
    root = logging.getLogger()
    for h in [h for h in root.handlers if isinstance(h, telemetry.RingHandler)]:
        root.removeHandler(h)
    root.setLevel(logging.WARNING)
    _native.configure_logging(json.dumps({"level": "INFO"}))


def setup_file(path: Path, **logging_cfg: Any) -> telemetry.Telemetry:
    cfg = {"level": "DEBUG", "console": False, "file": str(path), "overflow": "block"}
    cfg.update(logging_cfg)
    return telemetry.setup({"logging": cfg, "metrics": {"enabled": False}})


@pytest.fixture
def log_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "arb.jsonl"
    setup_file(path)
    yield path
    restore_defaults()


def test_python_logging_records_reach_the_ring_with_typed_fields(log_path: Path) -> None:
    log = logging.getLogger("arbhybrid.test.handler")
    log.debug("debug %s", 1)
    log.info("filled", extra={"venue": "mexc", "qty": 3, "px": 1.5, "maker": True})
    log.warning("warn %d%%", 5)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed to place")
    log.critical("critical")
    _native.flush_logging()

    recs = [r for r in read_jsonl(log_path) if r["target"] == "arbhybrid.test.handler"]
    assert [r["level"] for r in recs] == ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
    assert [r["msg"].splitlines()[0] for r in recs] == [
        "debug 1",
        "filled",
        "warn 5%",
        "failed to place",
        "critical",
    ]
    assert recs[1]["fields"] == {"venue": "mexc", "qty": 3, "px": 1.5, "maker": True}
    assert "Traceback" in recs[3]["msg"] and "RuntimeError: boom" in recs[3]["msg"]
    # Timestamps come from the LogRecord and are in order.
    ts = [r["ts_ns"] for r in recs]
    assert ts == sorted(ts) and ts[0] > 1_600_000_000 * 10**9


def test_direct_logger_writes_typed_fields_and_never_drops_extra_fields(log_path: Path) -> None:
    log = telemetry.get_logger("arbhybrid.test.hot")
    assert telemetry.get_logger("arbhybrid.test.hot") is log
    log.info("edge found", bps=12.5, venue="gateio", n=7, big=2**63 + 5, flag=False)
    log.debug("plain")
    log.log(logging.ERROR, "by number")
    many = {f"k{i}": i for i in range(9)}
    log.warning("many fields", **many)
    _native.flush_logging()

    recs = [r for r in read_jsonl(log_path) if r["target"] == "arbhybrid.test.hot"]
    assert [r["msg"].split(" ")[0] for r in recs] == ["edge", "plain", "by", "many"]
    assert recs[0]["fields"] == {
        "bps": 12.5,
        "venue": "gateio",
        "n": 7,
        "big": 2**63 + 5,
        "flag": False,
    }
    assert recs[2]["level"] == "ERROR"
    # Six fields fit in a record; the rest are appended to the message, not lost.
    assert recs[3]["fields"] == {f"k{i}": i for i in range(6)}
    assert recs[3]["msg"] == "many fields k6=6 k7=7 k8=8"


def test_rust_and_python_records_share_one_stream(log_path: Path) -> None:
    logging.getLogger("arbhybrid.test.mixed").info("before")
    # A metric registered under two kinds makes the Rust registry log an ERROR through
    # the Rust macro: a record produced in Rust, in the same file.
    _native.counter_add("telemetry_test_kind_clash_total")
    _native.gauge_set("telemetry_test_kind_clash_total", 1.0)
    telemetry.get_logger("arbhybrid.test.mixed").info("after")
    _native.flush_logging()

    mine = {"arbhybrid.test.mixed", "arb_telemetry::metrics"}
    recs = [r for r in read_jsonl(log_path) if r["target"] in mine]
    order = [(r["target"], r["msg"].split(";")[0]) for r in recs]
    assert order == [
        ("arbhybrid.test.mixed", "before"),
        ("arb_telemetry::metrics", "metric registered twice with different kinds"),
        ("arbhybrid.test.mixed", "after"),
    ]


def test_level_filtering_applies_to_both_paths(tmp_path: Path) -> None:
    path = tmp_path / "lvl.jsonl"
    setup_file(path, level="WARNING")
    try:
        logging.getLogger("arbhybrid.test.lvl").info("dropped by level")
        hot = telemetry.get_logger("arbhybrid.test.lvl")
        assert not hot.enabled(logging.INFO)
        hot.info("dropped by level")
        hot.warning("kept")
        _native.set_log_level(logging.DEBUG)
        hot.debug("kept after lowering")
        _native.flush_logging()
        msgs = [r["msg"] for r in read_jsonl(path) if r["target"] == "arbhybrid.test.lvl"]
        assert msgs == ["kept", "kept after lowering"]
    finally:
        restore_defaults()


def test_small_ring_drop_count_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "drops.jsonl"
    setup_file(path, ring_capacity=16, overflow="drop_newest")
    try:
        hot = telemetry.get_logger("arbhybrid.test.burst")
        n = 50_000
        for i in range(n):
            hot.info("burst", i=i)
        _native.flush_logging()
        stats = _native.logging_stats()
        recs = read_jsonl(path)
        written = [r for r in recs if r["msg"] == "burst"]
        reports = [r for r in recs if r["msg"].endswith(" records dropped")]
        reported = sum(r["fields"]["dropped"] for r in reports)
        for r in reports:
            assert r["level"] == "WARNING"
            assert r["msg"] == f"{r['fields']['dropped']} records dropped"
        assert len(written) + reported == n
        assert stats["dropped"] == reported
        assert stats["policy"] == "drop_newest" and stats["capacity"] == 16
        # What was kept is in order, without duplicates.
        kept = [r["fields"]["i"] for r in written]
        assert kept == sorted(set(kept))
    finally:
        restore_defaults()


def test_rotation_keeps_n_backups(tmp_path: Path) -> None:
    path = tmp_path / "rot.jsonl"
    setup_file(path, rotate_bytes=2_000, backups=3)
    try:
        hot = telemetry.get_logger("arbhybrid.test.rotate")
        for i in range(500):
            hot.info("rotating", i=i)
        _native.flush_logging()
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == ["rot.jsonl", "rot.jsonl.1", "rot.jsonl.2", "rot.jsonl.3"]
        assert all((tmp_path / n).stat().st_size <= 2_000 for n in names)
        mine = [r for r in read_jsonl(path) if r["target"] == "arbhybrid.test.rotate"]
        assert mine[-1]["fields"]["i"] == 499
    finally:
        restore_defaults()


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        ({"logging": {"levle": "INFO"}}, "levle"),
        ({"logging": {"level": "LOUD"}}, "logging.level"),
        ({"logging": {"overflow": "spill"}}, "logging.overflow"),
        ({"logging": {"ring_capacity": 0}}, "logging.ring_capacity"),
        ({"logging": {"console": False}, "metrics": {"prot": 1}}, "prot"),
        (
            {"logging": {"console": False}, "metrics": {"enabled": True, "alerts": {"nope": 1}}},
            "nope",
        ),
    ],
)
def test_bad_settings_name_the_key(settings: dict[str, Any], needle: str) -> None:
    try:
        with pytest.raises(ValueError, match=needle):
            telemetry.setup(settings)
    finally:
        restore_defaults()


def test_setup_takes_the_validated_settings_model(tmp_path: Path) -> None:
    s = load_config(REPO / "config.yaml", environ={})
    path = tmp_path / "from_settings.jsonl"
    s = s.model_copy(
        update={
            "logging": s.logging.model_copy(update={"file": str(path), "console": False}),
            "metrics": s.metrics.model_copy(update={"enabled": False}),
        }
    )
    try:
        t = telemetry.setup(s)
        assert t.metrics_port is None
        logging.getLogger("arbhybrid.test.settings").info("configured from Settings")
        _native.flush_logging()
        mine = [r for r in read_jsonl(path) if r["target"] == "arbhybrid.test.settings"]
        assert [r["msg"] for r in mine] == ["configured from Settings"]
        assert _native.logging_stats()["capacity"] == s.logging.ring_capacity
    finally:
        restore_defaults()
