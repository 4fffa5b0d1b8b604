"""The out-of-process latency bench (benches/python/out_of_process.py) with tiny numbers:
it runs end to end (ping-pong floor, simulator and engine as pinned processes, a ccxt.pro
trader, the wire view when tcpdump can capture here) and writes the JSON the lead's
figures are read from. No figure is asserted (the machine is shared): the shape is. The
wire view's matching is checked on a capture written here, so it is tested also where
tcpdump cannot run."""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benches" / "python" / "out_of_process.py"
sys.path.insert(0, str(BENCH.parent))
from out_of_process import wire_view  # noqa: E402

STATS = {"count", "p50", "p90", "p99", "p99_9", "max"}


def assert_stats(s: dict[str, Any], at_least: int = 1) -> None:
    assert set(s) == STATS, s
    assert s["count"] >= at_least
    assert s["p50"] <= s["p90"] <= s["p99"] <= s["p99_9"] <= s["max"]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores to pin to")
def test_the_bench_runs_and_writes_its_json(tmp_path: Path) -> None:
    cores = sorted(os.sched_getaffinity(0))[:2]
    out = tmp_path / "oop.json"
    run = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            *("--probes", "10", "--ccxt-probes", "3", "--round-trips", "200", "--capture"),
            *("--out", str(out), "--work", str(tmp_path)),
            *("--sim-core", str(cores[0]), "--engine-core", str(cores[1])),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "| engine first leg |" in run.stdout and "| ccxt both legs |" in run.stdout
    r = json.loads(out.read_text())
    assert set(r) == {"machine", "settings", "floor", "engine", "ccxt", "ratios"}
    for mode in ("blocking", "busy"):
        f = r["floor"][mode]
        assert f["mode"] == mode and f["round_trips"] == 200
        assert_stats(f["rtt_ns"], 200)
        assert_stats(f["one_way_ns"], 200)
    e = r["engine"]
    assert_stats(e["referee"]["first_leg_us"], 10)
    assert_stats(e["referee"]["both_legs_us"], 10)
    assert e["engine_internal_tick_to_trade"]["count"] >= 10
    # Each process ran on its own core only, every thread of it.
    assert e["affinity"] == {"sim": [str(cores[0])], "engine": [str(cores[1])]}
    c = r["ccxt"]
    assert c["traded"] == 3 and c["affinity"]["ccxt"] == [str(cores[1])]
    assert_stats(c["referee"]["both_legs_us"], 3)
    assert set(r["ratios"]) == {
        "engine_over_floor_blocking",
        "engine_over_floor_busy",
        "engine_over_ccxt",
    }
    for legs in r["ratios"].values():
        assert set(legs) == {"first_leg", "both_legs"}
        assert all(v > 0 for v in legs["first_leg"].values())
    wire = e["wire"]
    if wire["available"]:
        assert wire["dropped_by_kernel"] == 0, wire
        assert wire["captured"] == wire["packets"], wire
        assert wire["probes_matched"] >= 10, wire
        assert_stats(wire["first_leg_us"], 10)
        assert_stats(wire["sim_share_both_legs_us"], 10)
    else:
        assert wire["reason"]


def packet(ts_ns: int, sport: int, dport: int, payload: bytes) -> bytes:
    """One pcap record (nanosecond stamps): Ethernet, IPv4, TCP with ``payload``."""
    tcp = struct.pack(">HHIIBBHHH", sport, dport, 0, 0, 5 << 4, 0x18, 512, 0, 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, bytes(4), bytes(4))
    frame = bytes(12) + b"\x08\x00" + ip + tcp
    sec, ns = divmod(ts_ns, 1_000_000_000)
    return struct.pack("<IIII", sec, ns, len(frame), len(frame)) + frame


def test_the_wire_view_matches_push_and_order_packets(tmp_path: Path) -> None:
    mexc, gate, client = 4001, 4002, 50000
    ms = 1_700_000_000_000  # the probe's opening, in milliseconds
    t = ms * 1_000_000 + 300_000  # its push goes out 300 us later
    packets = [
        packet(t - 900_000, client, mexc, b"POST /api/v3/order?symbol=BTCUSDT"),  # before
        packet(t - 10_000, mexc, client, b"\x81\x05hello"),  # before the opening: not it
        packet(t, gate, client, b"\x82\x10push"),  # the push (Gate's price jumped)
        packet(t + 5_000, client, gate, b""),  # an ack: no payload
        packet(t + 20_000, mexc, client, b"HTTP/1.1 200 OK"),  # a response, not a push
        packet(t + 100_000, client, mexc, b"POST /api/v3/order?symbol=BTCUSDT&side=BUY"),
        packet(t + 120_000, client, gate, b"GET /api/v4/spot/orders HTTP/1.1"),  # a query
        packet(t + 150_000, client, gate, b"POST /api/v4/spot/orders HTTP/1.1"),
        packet(t + 200_000, client, mexc, b"POST /api/v3/order?symbol=BTCUSDT"),  # a second
    ]
    pcap = tmp_path / "x.pcap"
    header = struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 256, 1)
    pcap.write_bytes(header + b"".join(packets))
    referee = {
        "detail": [
            {"opened_ms": ms, "jumped": "gateio", "mexc_us": 180, "gateio_us": 260},
            {"opened_ms": ms + 1000, "jumped": "mexc", "mexc_us": None, "gateio_us": None},
        ]
    }
    w = wire_view(pcap, {"mexc": ("mexc", mexc), "gateio": ("gateio", gate)}, referee)
    assert w["packets"] == len(packets) and w["probes_matched"] == 1
    assert w["push_after_open_us"]["p50"] == 300.0
    assert w["first_leg_us"]["p50"] == 100.0 and w["both_legs_us"]["p50"] == 150.0
    assert w["sim_share_first_leg_us"]["p50"] == 80.0
    assert w["sim_share_both_legs_us"]["p50"] == 110.0


def test_the_sim_command_takes_the_probe_timing() -> None:
    """``sim --probe-interval-ms MIN MAX --probe-hold-ms MS``: the bench's probe cadence
    (the defaults, 300-900 ms apart and 500 ms open, would make 2,000 probes take 37 min)."""
    from arbhybrid.commands import sim

    ap = argparse.ArgumentParser()
    sim.add_commands(ap.add_subparsers())
    config = ["sim", "--config", str(REPO / "config.yaml"), "--probe"]
    args = ap.parse_args([*config, "--probe-interval-ms", "60", "140", "--probe-hold-ms", "40"])
    cfg = sim._config(args)
    assert cfg["probe_mode"] is True
    assert (cfg["probe_min_interval_ms"], cfg["probe_max_interval_ms"]) == (60, 140)
    assert cfg["probe_hold_ms"] == 40
    # Unset, the simulator's own defaults apply.
    assert "probe_hold_ms" not in sim._config(ap.parse_args(config))
