"""`/metrics` over a real loopback socket, parsed by prometheus_client's own parser."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from arbhybrid import _native, telemetry


def scrape(port: int, path: str = "/metrics") -> tuple[int, str, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
        return resp.status, resp.headers["Content-Type"], resp.read().decode()


def families(text: str) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(text)}


@pytest.fixture
def port() -> Iterator[int]:
    t = telemetry.setup(
        {"logging": {"console": False}, "metrics": {"enabled": True, "port": 0}},
        alert_interval_s=3600.0,
    )
    assert t.metrics_port is not None
    yield t.metrics_port
    _native.stop_metrics_server()
    _native.stop_alerts()
    root = logging.getLogger()
    for h in [h for h in root.handlers if isinstance(h, telemetry.RingHandler)]:
        root.removeHandler(h)
    _native.configure_logging(json.dumps({"level": "INFO"}))


def test_metrics_parse_with_prometheus_client(port: int) -> None:
    venue = {"venue": "pytest_metrics"}
    _native.counter_add("book_updates_total", venue, 41)
    _native.counter_add("book_updates_total", venue)
    _native.gauge_set("ws_connected", 1.0, venue)
    for ns in (800, 1_500, 40_000, 3_000_000):
        _native.observe_ns("http_request_seconds", ns, venue)
    telemetry.get_logger("arbhybrid.test.metrics").info("counted by level")
    _native.flush_logging()

    status, ctype, body = scrape(port)
    assert status == 200
    assert ctype.startswith("text/plain; version=0.0.4")
    fams = families(body)

    book = fams["book_updates"]
    assert book.type == "counter"  # type: ignore[attr-defined]
    samples = {(s.name, s.labels.get("venue")): s.value for s in book.samples}  # type: ignore[attr-defined]
    assert samples[("book_updates_total", "pytest_metrics")] == 42

    ws = fams["ws_connected"]
    assert ws.type == "gauge"  # type: ignore[attr-defined]
    assert any(s.labels == venue and s.value == 1.0 for s in ws.samples)  # type: ignore[attr-defined]

    hist = fams["http_request_seconds"]
    assert hist.type == "histogram"  # type: ignore[attr-defined]
    mine = [s for s in hist.samples if s.labels.get("venue") == "pytest_metrics"]  # type: ignore[attr-defined]
    buckets = [(float(s.labels["le"]), s.value) for s in mine if s.name.endswith("_bucket")]
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), "buckets must be cumulative"
    assert dict(buckets)[float("inf")] == 4
    assert dict(buckets)[1e-06] == 1  # 800 ns
    assert dict(buckets)[2e-06] == 2  # 1.5 us
    assert dict(buckets)[5e-05] == 3  # 40 us
    assert dict(buckets)[0.002] == 3
    assert dict(buckets)[0.005] == 4  # 3 ms
    total = next(s.value for s in mine if s.name.endswith("_sum"))
    assert total == pytest.approx((800 + 1_500 + 40_000 + 3_000_000) / 1e9)

    # The logger's own metrics and the process RSS are there too.
    assert fams["log_records"].type == "counter"  # type: ignore[attr-defined]
    assert next(iter(fams["process_resident_memory_bytes"].samples)).value > 0  # type: ignore[attr-defined]
    assert "log_call_seconds" in fams and "log_ring_capacity" in fams


def test_histogram_summary_percentiles(port: int) -> None:
    for ns in range(1, 1001):
        _native.observe_ns("symbol_format_seconds", ns * 100, {"venue": "pytest_summary"})
    s = _native.histogram_summary("symbol_format_seconds", {"venue": "pytest_summary"})
    assert s["count"] == 1000
    assert s["sum_ns"] == sum(ns * 100 for ns in range(1, 1001))
    assert 50_000 <= s["p50_ns"] <= 50_000 * 1.0625
    assert 99_000 <= s["p99_ns"] <= 99_000 * 1.0625
    assert _native.histogram_summary("never_recorded_seconds")["p50_ns"] is None


def test_alert_state_is_exported_and_parses(port: int) -> None:
    venue = {"venue": "pytest_metrics_alert"}
    _native.observe_ns("http_request_seconds", 500_000_000, venue)
    _native.evaluate_alerts()
    fams = families(scrape(port)[2])
    active = fams["alert_active"]
    assert any(
        s.labels == {"name": "api_response", **venue} and s.value == 1.0
        for s in active.samples  # type: ignore[attr-defined]
    )
    _native.observe_ns("http_request_seconds", 1_000_000, venue)
    _native.evaluate_alerts()


def test_only_metrics_is_served(port: int) -> None:
    with pytest.raises(urllib.error.HTTPError) as e:
        scrape(port, "/")
    assert e.value.code == 404
    e.value.close()
