"""Tick-to-trade measured the way a venue sees it: simulator and client in separate
processes, each pinned to its own core (issue 16 item 4).

One command runs, in order:

1. **the floor**: ``pingpong`` (``benches/src/bin/pingpong.rs``), a TCP ping-pong on
   127.0.0.1 between two processes pinned to the two cores, in both modes (blocking
   reads; busy-polling a non-blocking socket). A probe's tick-to-trade is one round trip
   (the push out, the order back), so the engine is set against the floor's round trip.
2. **the engine**: ``python -m arbhybrid sim --probe`` on the simulator's core and
   ``python -m arbhybrid run --live`` pointed at it (URLs and keys in the environment)
   on the engine's core, with the in-process bench's settings (tick_to_trade.py: one
   symbol, ``stream`` + ``notify``, ``ioc_both``, cooldown 45 ms, rate limiting off on both
   sides, book age limit 5 s), until the referee counted ``--probes`` probes with both
   legs; then the referee's report (admin ``GET /referee``) and the engine's own
   tick-to-trade (its status endpoint).
3. **ccxt.pro** (unless ``--skip-ccxt``): the same with ``ccxt_gap_trader.py`` (rate
   limiter off) as the pinned client, for ``--ccxt-probes`` gaps.
4. **ratios**: engine / floor (blocking, busy) and engine / ccxt, per percentile.
5. **the wire view** (``--capture``): ``tcpdump`` on ``lo`` during the engine's run, with
   nanosecond stamps; per probe, the push packet (the jumped venue's port -> client) to
   each venue's first order packet (client -> that venue's port). The referee's figure
   minus the wire's is the simulator's own share (its WebSocket write before the packet,
   its HTTP parse after it).

Run (after ``scripts/setup``; the lead's figures want a quiet machine):
``.venv/bin/python benches/python/out_of_process.py [--probes 2000] [--capture]
[--out runs/out_of_process.json]`` prints markdown tables and writes the JSON.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import math
import os
import platform
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from urllib.parse import urlsplit

from arbhybrid.campaign.process import EngineProcess

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
QUANTILES = ("p50", "p90", "p99", "p99_9")
#: The simulator in probe mode as the in-process bench runs it (tick_to_trade.py).
SIM_ARGS = [
    "--probe",
    "--seed",
    "21",
    "--symbols",
    "BTC/USDT",
    "--probe-interval-ms",
    "60",
    "140",
    "--probe-hold-ms",
    "40",
]
SIM_ENV = {
    "ARB__SIMULATOR__RATE_LIMITS": "false",
    "ARB__SIMULATOR__TRADER_BALANCES": '{"USDT": "10000000", "BTC": "100"}',
}
#: The engine's settings of tick_to_trade.py's ``bench_settings("stream", "notify")``.
ENGINE_ENV = {
    "ARB__STRATEGY__SYMBOLS": '["BTC/USDT"]',
    "ARB__STRATEGY__COOLDOWN_MS": "45",
    "ARB__STRATEGY__BALANCE_MODE": "stream",
    "ARB__STRATEGY__PYTHON_RISK_MODE": "notify",
    "ARB__STRATEGY__ORDER_STYLE": "ioc_both",
    "ARB__RISK__MAX_BOOK_AGE_MS": "5000",
    "ARB__RISK__MAX_OPEN_ARBITRAGES": "4",
    "ARB__RISK__DAILY_LOSS_LIMIT": "100000",
    "ARB__RISK__KILL_SWITCHES__LEG_IMBALANCE_NOTIONAL": "100000",
    "ARB__EXCHANGES__MEXC__RATE_LIMIT": "false",
    "ARB__EXCHANGES__GATEIO__RATE_LIMIT": "false",
    "ARB__LOGGING__CONSOLE": "false",
    "ARB__LOGGING__LEVEL": "WARNING",
    "ARB__METRICS__ENABLED": "false",
}
#: The request line of an order, per venue kind (the wire view finds order packets by it).
ORDER_REQUEST = {
    "mexc": re.compile(rb"^POST /api/v3/order[ ?]"),
    "gateio": re.compile(rb"^POST /api/v4/spot/orders[ ?]"),
}


def stats(values: list[float]) -> dict[str, Any]:
    """count, p50, p90, p99, p99.9, max (nearest rank, as the referee computes them)."""
    if not values:
        return {"count": 0}
    v = sorted(values)

    def pick(q: float) -> float:
        return v[min(max(math.ceil(q * len(v)), 1), len(v)) - 1]

    return {
        "count": len(v),
        **{k: pick(q) for k, q in zip(QUANTILES, (0.5, 0.9, 0.99, 0.999), strict=True)},
        "max": v[-1],
    }


@contextlib.contextmanager
def pinned(core: int) -> Iterator[None]:
    """Processes started inside run on ``core`` only (a child inherits the affinity of
    the thread that forks it, before it starts any thread of its own)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def affinity(pid: int) -> list[str]:
    """The distinct CPU lists the threads of ``pid`` may run on (one entry when pinned)."""
    out = set()
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        with contextlib.suppress(OSError):
            for line in status.read_text().splitlines():
                if line.startswith("Cpus_allowed_list:"):
                    out.add(line.split()[1])
    return sorted(out)


def pingpong_binary(profile: str) -> Path:
    """The ``pingpong`` binary of ``profile``, built first (a no-op when up to date)."""
    subprocess.run(
        [
            "cargo",
            "build",
            "--quiet",
            "--profile",
            profile,
            "-p",
            "arb-benches",
            "--bin",
            "pingpong",
        ],
        cwd=REPO,
        check=True,
    )
    folder = "debug" if profile == "dev" else profile
    return REPO / "target" / folder / "pingpong"


def floor(binary: Path, mode: str, round_trips: int, cores: tuple[int, int]) -> dict[str, Any]:
    """One ping-pong run: the echo on the simulator's core, the timer on the engine's."""
    with pinned(cores[0]):
        server = subprocess.Popen(
            [str(binary), "serve", "--mode", mode], stdout=subprocess.PIPE, text=True
        )
    try:
        assert server.stdout is not None
        port = server.stdout.readline().strip()
        n, warmup = str(round_trips), str(max(round_trips // 10, 1))
        with pinned(cores[1]):
            client = subprocess.run(
                [
                    str(binary),
                    "client",
                    "--port",
                    port,
                    "--mode",
                    mode,
                    "--round-trips",
                    n,
                    "--warmup",
                    warmup,
                ],
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            )
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()
    report: dict[str, Any] = json.loads(client.stdout)
    return report


class SimProcess:
    """``python -m arbhybrid sim --probe`` pinned to one core: its endpoints and keys
    (the line it prints) and its referee (admin ``GET /referee``)."""

    def __init__(self, core: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ARB", "MEXC", "GATEIO"))}
        with pinned(core):
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "arbhybrid",
                    "sim",
                    "--config",
                    str(REPO / "config.yaml"),
                    *SIM_ARGS,
                ],
                cwd=REPO,
                env={**env, **SIM_ENV},
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"simulator exited with {self.proc.wait()} before its endpoints")
        self.info: dict[str, Any] = json.loads(line)

    def venues(self) -> dict[str, tuple[str, int]]:
        """Each venue's kind and port (REST and WebSocket share it), by venue name."""
        return {v["name"]: (v["kind"], urlsplit(v["rest"]).port or 0) for v in self.info["venues"]}

    def env(self) -> dict[str, str]:
        """The client's environment: venue URLs and keys, nothing of ours inherited."""
        i, acc = self.info, self.info["accounts"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ARB", "MEXC", "GATEIO"))}
        env.update(
            MEXC_REST_URL=i["mexc_rest"],
            MEXC_WS_URL=i["mexc_ws"],
            GATEIO_REST_URL=i["gate_rest"],
            GATEIO_WS_URL=i["gate_ws"],
            MEXC_API_KEY=acc["mexc"]["api_key"],
            MEXC_API_SECRET=acc["mexc"]["api_secret"],
            GATEIO_API_KEY=acc["gateio"]["api_key"],
            GATEIO_API_SECRET=acc["gateio"]["api_secret"],
        )
        return env

    def referee(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.info["admin"] + "/referee", timeout=30) as r:
            report: dict[str, Any] = json.loads(r.read())
            return report

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        # It prints its referee report on exit: read it, or a full pipe would hold it.
        self.proc.communicate(timeout=60)


def wait_for_probes(sim: SimProcess, probes: int, alive: Any, timeout_s: float) -> None:
    """Until the referee counted ``probes`` probes with both legs, ``alive()`` turns
    false or ``timeout_s`` passes. Asks seldom: each report is serialized on the
    simulator's core."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive():
        left = probes - sim.referee()["both_legs_us"]["count"]
        if left <= 0:
            return
        time.sleep(min(max(left * 0.08, 0.5), 30.0))


class Capture:
    """``tcpdump`` on ``lo`` for the simulator's venue ports, nanosecond stamps."""

    def __init__(self, pcap: Path, ports: list[int], core: int) -> None:
        self.pcap = pcap
        self.proc: subprocess.Popen[str] | None = None
        self.stamp = "host"
        self.error: str | None = None
        binary = shutil.which("tcpdump")
        if binary is None:
            self.error = "tcpdump not found (install it, e.g. apt-get install tcpdump)"
            return
        # The adapter's own stamps when lo has them; lo offers only "host" (the kernel's
        # clock when the packet passes the capture point), which is what we compare.
        types = subprocess.run([binary, "-i", "lo", "-J"], capture_output=True, text=True)
        if "adapter_unsynced" in types.stdout:
            self.stamp = "adapter_unsynced"
        bpf = "tcp and (" + " or ".join(f"port {p}" for p in ports) + ")"
        # As root, tcpdump would switch to its own user, who may not write into our folder.
        user = ["-Z", "root"] if os.geteuid() == 0 else []
        flags = ["-i", "lo", "-nn", "-U", "-s", "256", "-j", self.stamp, *user]
        with pinned(core):
            self.proc = subprocess.Popen(
                [binary, *flags, "--time-stamp-precision=nano", "-w", str(pcap), bpf],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        assert self.proc.stderr is not None
        said = []
        while line := self.proc.stderr.readline():  # "listening on lo, ..." once it captures
            if "listening" in line:
                return
            said.append(line.strip())
        self.error = f"tcpdump exited with {self.proc.wait()}: {' '.join(said)}"
        self.proc.stderr.close()
        self.proc = None

    def stop(self) -> dict[str, Any]:
        """Stops the capture once it has written what the kernel holds for it: on a busy
        core tcpdump may lag, and what it has not read when it stops is lost (counted in
        ``received_by_filter`` but not in ``captured``; on ``lo`` the kernel's count also
        holds each packet's outgoing copy, which libpcap skips, so it is about twice
        ``captured`` when nothing was lost)."""
        if self.proc is None:
            return {"available": False, "reason": self.error}
        size, deadline = -1, time.monotonic() + 15
        while time.monotonic() < deadline:
            now = self.pcap.stat().st_size if self.pcap.exists() else 0
            if now == size:
                break
            size = now
            time.sleep(0.5)
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=60)

        def count(what: str) -> int | None:
            m = re.search(rf"(\d+) packets? {what}", err)
            return int(m.group(1)) if m else None

        return {
            "available": True,
            "timestamp_type": self.stamp,
            "captured": count("captured"),
            "received_by_filter": count("received by filter"),
            "dropped_by_kernel": count("dropped by kernel"),
        }


def read_pcap(path: Path) -> Iterator[tuple[int, int, int, bytes]]:
    """(nanoseconds since the epoch, source port, destination port, TCP payload as
    captured) of each IPv4 TCP packet of a little-endian pcap file."""
    data = path.read_bytes()
    if len(data) < 24:
        return
    magic, linktype = struct.unpack_from("<I", data, 0)[0], struct.unpack_from("<I", data, 20)[0]
    per_frac = {0xA1B23C4D: 1, 0xA1B2C3D4: 1000}[magic]  # nanosecond or microsecond file
    link = {1: 14, 0: 4, 113: 16, 276: 20}[linktype]  # Ethernet, BSD loopback, Linux SLL(2)
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack_from("<IIII", data, off)
        pkt = data[off + 16 : off + 16 + incl]
        off += 16 + incl
        ip = pkt[link:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl, total = (ip[0] & 15) * 4, struct.unpack_from(">H", ip, 2)[0]
        tcp = ip[ihl:]
        if len(tcp) < 20:
            continue
        sport, dport = struct.unpack_from(">HH", tcp, 0)
        doff = (tcp[12] >> 4) * 4
        payload = tcp[doff : max(total - ihl, doff)]
        yield sec * 1_000_000_000 + frac * per_frac, sport, dport, payload


def wire_view(
    pcap: Path, venues: dict[str, tuple[str, int]], referee: dict[str, Any]
) -> dict[str, Any]:
    """Per probe: the jumped venue's first WebSocket data frame to the client after the
    probe opened (the push), and each venue's first order request after it; first leg
    and both legs on the wire, and the referee's figure minus the wire's (the
    simulator's own share), in microseconds. The push is a WebSocket data frame (the
    probe's opening push is the first: probe-mode books are quiet); an order is the
    request line of the venue kind's order endpoint."""
    pushes: dict[str, list[int]] = {name: [] for name in venues}
    orders: dict[str, list[int]] = {name: [] for name in venues}
    by_port = {port: name for name, (_, port) in venues.items()}
    packets = 0
    for ts, sport, dport, payload in read_pcap(pcap):
        packets += 1
        if not payload:
            continue
        if sport in by_port and payload[0] in (0x81, 0x82):  # FIN + text / binary frame
            pushes[by_port[sport]].append(ts)
        elif dport in by_port and ORDER_REQUEST[venues[by_port[dport]][0]].match(payload):
            orders[by_port[dport]].append(ts)
    detail = referee["detail"]
    first, both, share_first, share_both, after_open = [], [], [], [], []
    for i, p in enumerate(detail):
        start = p["opened_ms"] * 1_000_000
        end = detail[i + 1]["opened_ms"] * 1_000_000 if i + 1 < len(detail) else 1 << 62
        jumped = pushes[p["jumped"]]
        j = bisect.bisect_left(jumped, start)
        if j == len(jumped) or jumped[j] >= end:
            continue
        push = jumped[j]
        legs, ref_legs = [], []
        for name in venues:
            at = orders[name]
            k = bisect.bisect_left(at, push)
            if k < len(at) and at[k] < end:
                legs.append(round((at[k] - push) / 1000, 1))
            if p.get(f"{name}_us") is not None:
                ref_legs.append(p[f"{name}_us"])
        legs.sort()
        ref_legs.sort()
        if legs:
            after_open.append(round((push - start) / 1000, 1))
            first.append(legs[0])
            if ref_legs:
                share_first.append(round(ref_legs[0] - legs[0], 1))
        if len(legs) > 1:
            both.append(legs[1])
            if len(ref_legs) > 1:
                share_both.append(round(ref_legs[1] - legs[1], 1))
    return {
        "packets": packets,
        "probes_matched": len(first),
        # How long after the probe's opening stamp (wall-clock milliseconds, rounded
        # down) its push was captured: a check that the right packet was matched.
        "push_after_open_us": stats(after_open),
        "first_leg_us": stats(first),
        "both_legs_us": stats(both),
        "sim_share_first_leg_us": stats(share_first),
        "sim_share_both_legs_us": stats(share_both),
    }


#: ``--hot``: where the engine's hot path runs (``engine.hot``).
HOT_ENV: dict[str, dict[str, str]] = {
    "hot": {"ARB__ENGINE__HOT__THREAD": "true", "ARB__ENGINE__HOT__BUSY_POLL": "false"},
    "shared": {"ARB__ENGINE__HOT__THREAD": "false", "ARB__ENGINE__HOT__BUSY_POLL": "false"},
    "busy": {"ARB__ENGINE__HOT__THREAD": "true", "ARB__ENGINE__HOT__BUSY_POLL": "true"},
}


def referee_summary(report: dict[str, Any]) -> dict[str, Any]:
    return {k: report[k] for k in ("probes", "first_leg_us", "both_legs_us")}


def run_engine(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    sim = SimProcess(args.sim_core)
    capture = None
    try:
        if args.capture:
            capture = Capture(
                work / "engine.pcap", [port for _, port in sim.venues().values()], args.sim_core
            )
        env = {
            **sim.env(),
            **ENGINE_ENV,
            **HOT_ENV[args.hot],
            "ARB__JOURNAL__PATH": str(work / "journal.sqlite"),
            "ARB__LOGGING__FILE": str(work / "engine.log"),
        }
        with pinned(args.engine_core):
            engine = EngineProcess(env, work)
        t0 = time.monotonic()
        try:
            startup_s = engine.wait_ready()
            wait_for_probes(sim, args.probes, engine.alive, 60 + args.probes * 0.5)
            snap = engine.snapshot() or {}
            pins = {"sim": affinity(sim.proc.pid), "engine": affinity(engine.pid)}
        finally:
            engine.stop()
        report = sim.referee()
    finally:
        wire = capture.stop() if capture else None
        sim.stop()
    out: dict[str, Any] = {
        "referee": referee_summary(report),
        "engine_internal_tick_to_trade": snap.get("stats", {}).get("tick_to_trade"),
        "engine_hot_path": snap.get("stats", {}).get("hot_path"),
        "outcomes": snap.get("stats", {}).get("outcomes"),
        "affinity": pins,
        "startup_s": round(startup_s, 2),
        "seconds": round(time.monotonic() - t0, 1),
    }
    if wire is not None:
        if wire["available"]:
            wire.update(wire_view(work / "engine.pcap", sim.venues(), report))
        out["wire"] = wire
    return out


def run_ccxt(args: argparse.Namespace) -> dict[str, Any]:
    sim = SimProcess(args.sim_core)
    try:
        with pinned(args.engine_core):
            trader = subprocess.Popen(
                [
                    sys.executable,
                    str(HERE / "ccxt_gap_trader.py"),
                    "--rounds",
                    str(args.ccxt_probes),
                ],
                env=sim.env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        t0 = time.monotonic()
        try:
            time.sleep(1.0)
            pins = {"sim": affinity(sim.proc.pid), "ccxt": affinity(trader.pid)}
            out, err = trader.communicate(timeout=60 + args.ccxt_probes * 1.0)
        finally:
            if trader.poll() is None:
                trader.kill()
                trader.communicate()
        if trader.returncode != 0:
            raise RuntimeError(f"ccxt gap trader exited with {trader.returncode}: {err[-2000:]}")
        report = sim.referee()
    finally:
        sim.stop()
    return {
        "referee": referee_summary(report),
        "traded": json.loads(out.strip().splitlines()[-1])["traded"],
        "affinity": pins,
        "seconds": round(time.monotonic() - t0, 1),
    }


def ratio(a: dict[str, Any], b: dict[str, Any], scale_b: float = 1.0) -> dict[str, Any]:
    """``a / b`` per percentile (``b`` times ``scale_b``: the floor is in nanoseconds)."""
    return {
        q: round(a[q] / (b[q] * scale_b), 2) if a.get(q) and b.get(q) else None for q in QUANTILES
    }


def ratios(result: dict[str, Any]) -> dict[str, Any]:
    ref = result["engine"]["referee"]
    out: dict[str, Any] = {}
    for mode, f in result["floor"].items():
        out[f"engine_over_floor_{mode}"] = {
            leg: ratio(ref[f"{leg}_us"], f["rtt_ns"], 1e-3) for leg in ("first_leg", "both_legs")
        }
    if result.get("ccxt"):
        c = result["ccxt"]["referee"]
        out["engine_over_ccxt"] = {
            leg: ratio(ref[f"{leg}_us"], c[f"{leg}_us"]) for leg in ("first_leg", "both_legs")
        }
    return out


def fmt_us(us: float | None) -> str:
    if us is None:
        return "-"
    return f"{us / 1000:.2f} ms" if abs(us) >= 1000 else f"{us:.1f} us"


def tables(result: dict[str, Any]) -> str:
    head = "| {} | count | p50 | p90 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|"

    def row(label: str, s: dict[str, Any], scale: float = 1.0) -> str:
        cells = [fmt_us(s[q] * scale) if s.get(q) is not None else "-" for q in QUANTILES]
        mx = fmt_us(s["max"] * scale) if "max" in s else "-"
        return f"| {label} | {s['count']} | " + " | ".join(cells) + f" | {mx} |"

    lines = [head.format("floor (ping-pong)")]
    for mode, f in result["floor"].items():
        lines.append(row(f"{mode} round trip", f["rtt_ns"], 1e-3))
        lines.append(row(f"{mode} one way", f["one_way_ns"], 1e-3))
    lines += ["", head.format("referee (frame written -> order received)")]
    for who in ("engine", "ccxt"):
        if result.get(who):
            ref = result[who]["referee"]
            lines.append(row(f"{who} first leg", ref["first_leg_us"]))
            lines.append(row(f"{who} both legs", ref["both_legs_us"]))
    wire = result["engine"].get("wire")
    if wire and wire.get("available"):
        lines += ["", head.format("engine on the wire (push packet -> order packet)")]
        for k in ("first_leg_us", "both_legs_us", "sim_share_first_leg_us"):
            lines.append(row(k.removesuffix("_us").replace("_", " "), wire[k]))
        lines.append(row("sim share both legs", wire["sim_share_both_legs_us"]))
    stages = result["engine"].get("engine_hot_path")
    if stages:
        lines += [
            "",
            "| engine's own stages (from the frame's read) | count | p50 | p99 | max |",
            "|---|---|---|---|---|",
        ]
        for k, s in stages.items():
            cells = " | ".join(fmt_us(s[q]) for q in ("p50_us", "p99_us", "max_us"))
            lines.append(f"| {k.replace('_', ' ')} | {s['count']} | {cells} |")
    lines += ["", "| ratio | leg | p50 | p90 | p99 | p99.9 |", "|---|---|---|---|---|---|"]
    for name, legs in result["ratios"].items():
        for leg, r in legs.items():
            cells = " | ".join("-" if r[q] is None else f"{r[q]:.2f}" for q in QUANTILES)
            lines.append(f"| {name.replace('_', ' ')} | {leg.replace('_', ' ')} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probes", type=int, default=2000, help="engine probes (both legs)")
    ap.add_argument("--ccxt-probes", type=int, default=300, help="gaps the ccxt trader trades")
    ap.add_argument("--round-trips", type=int, default=100_000, help="ping-pong round trips")
    ap.add_argument("--sim-core", type=int, default=0, help="core of the simulator (and echo)")
    ap.add_argument("--engine-core", type=int, default=1, help="core of the engine (and ccxt)")
    ap.add_argument("--skip-ccxt", action="store_true", help="no ccxt.pro run")
    ap.add_argument(
        "--hot",
        choices=sorted(HOT_ENV),
        default="hot",
        help="engine.hot: own thread (hot, default), the shared runtime as before (shared), "
        "own busy-polling thread (busy)",
    )
    ap.add_argument("--capture", action="store_true", help="the wire view (tcpdump on lo)")
    ap.add_argument("--profile", default="ci", help="cargo profile of pingpong (default ci)")
    ap.add_argument("--out", type=Path, default=None, help="write the JSON here")
    ap.add_argument(
        "--work", type=Path, default=None, help="keep the engine's log, journal and capture here"
    )
    args = ap.parse_args()
    cores = (args.sim_core, args.engine_core)
    if args.sim_core == args.engine_core or not set(cores) <= os.sched_getaffinity(0):
        ap.error(f"--sim-core and --engine-core: two different cores of {os.sched_getaffinity(0)}")
    binary = pingpong_binary(args.profile)
    result: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "load_average_at_start": os.getloadavg(),
        },
        "settings": {
            "probes": args.probes,
            "ccxt_probes": None if args.skip_ccxt else args.ccxt_probes,
            "round_trips": args.round_trips,
            "sim_core": args.sim_core,
            "engine_core": args.engine_core,
            "sim_args": SIM_ARGS,
            "sim_env": SIM_ENV,
            "engine_env": ENGINE_ENV,
            "pingpong_profile": args.profile,
            "floor_is": "the ping-pong's round trip (a probe is a push out and an order back)",
        },
        "floor": {m: floor(binary, m, args.round_trips, cores) for m in ("blocking", "busy")},
    }
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        result["engine"] = run_engine(args, args.work)
    else:
        with TemporaryDirectory(prefix="out_of_process_") as tmp:
            result["engine"] = run_engine(args, Path(tmp))
    result["ccxt"] = None if args.skip_ccxt else run_ccxt(args)
    result["ratios"] = ratios(result)
    result["machine"]["load_average_at_end"] = os.getloadavg()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))
    print(tables(result), flush=True)


if __name__ == "__main__":
    main()
