"""The engine under test: the symbols and settings it runs with, one ``python -m
arbhybrid run --live`` process pointed at the simulator, its status endpoint, and what it
left in its work folder (output, log)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from arbhybrid.simulator import Simulator

REPO = Path(__file__).resolve().parents[3]
#: Staleness threshold the campaign runs the engine with (stalls are longer than this).
STALE_MS = 1500
#: Settings ``engine_env`` sets that a soak (steady state) leaves at their defaults.
FAULT_SETTINGS = (
    "ARB__MARKET_DATA__STALENESS_MS",
    "ARB__MARKET_DATA__RECONNECT_AFTER_STALE_MS",
    "ARB__RISK__KILL_SWITCHES__RESYNCS_PER_MINUTE",
    "ARB__RISK__KILL_SWITCHES__CONSECUTIVE_HEDGE_FAILURES",
)


MAJORS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT")


def symbols_for(n: int) -> list[str]:
    """``n`` unified symbols: the majors first (they have balances and trade), then
    generated three-letter bases (``AAB/USDT``...)."""
    out = list(MAJORS[: min(n, len(MAJORS))])
    i = 0
    while len(out) < n:
        a, b, c = i // 676, (i // 26) % 26, i % 26
        out.append(f"{chr(81 + a % 10)}{chr(65 + b)}{chr(65 + c)}/USDT")
        i += 1
    return out


def engine_env(sim: Simulator, workdir: Path, symbols: list[str]) -> dict[str, str]:
    """The environment of an engine process trading ``sim`` (keys, URLs, journal) with
    the campaign's settings.

    The kill switches on resyncs and hedge failures are lifted: the campaign causes
    thousands of resyncs on purpose, and a halted engine would stop exercising the
    order path (the switches have their own tests)."""
    e = sim.endpoints
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARB", "MEXC", "GATEIO"))}
    env.update(
        {
            "MEXC_REST_URL": e.mexc_rest,
            "MEXC_WS_URL": e.mexc_ws,
            "GATEIO_REST_URL": e.gate_rest,
            "GATEIO_WS_URL": e.gate_ws,
            "MEXC_API_KEY": sim.account("mexc").api_key,
            "MEXC_API_SECRET": sim.account("mexc").api_secret,
            "GATEIO_API_KEY": sim.account("gateio").api_key,
            "GATEIO_API_SECRET": sim.account("gateio").api_secret,
            "ARB__JOURNAL__PATH": str(workdir / "journal.sqlite"),
            "ARB__LOGGING__FILE": str(workdir / "engine.log"),
            "ARB__LOGGING__CONSOLE": "false",
            "ARB__STRATEGY__SYMBOLS": json.dumps(symbols),
            "ARB__STRATEGY__BALANCE_MODE": "stream",
            "ARB__STRATEGY__COOLDOWN_MS": "100",
            "ARB__RISK__KILL_SWITCHES__RESYNCS_PER_MINUTE": "1000000",
            "ARB__RISK__KILL_SWITCHES__CONSECUTIVE_HEDGE_FAILURES": "1000000",
            "ARB__MARKET_DATA__STALENESS_MS": str(STALE_MS),
            "ARB__MARKET_DATA__RECONNECT_AFTER_STALE_MS": str(STALE_MS * 4),
        }
    )
    return env


def clear_workdir(workdir: Path) -> None:
    """Creates ``workdir`` and removes what an earlier run left there (journal, log,
    output, state file): each run starts from a fresh account at a fresh simulator."""
    workdir.mkdir(parents=True, exist_ok=True)
    for p in (
        "journal.sqlite",  # (where an older version journaled live runs)
        "live/journal.sqlite",
        "live/journal.sqlite-wal",
        "live/journal.sqlite-shm",
        "engine.log",
        "engine.out",
        "engine.json",
    ):
        with contextlib.suppress(FileNotFoundError):
            (workdir / p).unlink()


class EngineProcess:
    """One ``python -m arbhybrid run --live`` process and its status endpoint."""

    def __init__(self, env: dict[str, str], workdir: Path, *args: str) -> None:
        self.workdir = workdir
        self.state_file = workdir / "engine.json"
        self.started = time.monotonic()
        out = (workdir / "engine.out").open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "arbhybrid",
                "run",
                "--live",
                "--config",
                str(REPO / "config.yaml"),
                *args,
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        self.url: str | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Waits until this process answers ``/status``; returns seconds since start."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"engine exited with {self.proc.returncode}: {self.tail()}")
            with contextlib.suppress(OSError, ValueError):
                st = json.loads(self.state_file.read_text())
                if st.get("pid") == self.pid:
                    self.url = st["url"]
                    if self.snapshot() is not None:
                        return time.monotonic() - self.started
            time.sleep(0.02)
        raise RuntimeError(f"engine not ready after {timeout} s: {self.tail()}")

    def snapshot(self) -> dict[str, Any] | None:
        if self.url is None:
            return None
        try:
            with urllib.request.urlopen(self.url + "/status", timeout=5) as r:
                snap: dict[str, Any] = json.loads(r.read())["snapshot"]
                return snap
        except (OSError, ValueError, KeyError):
            return None

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 120.0) -> int:
        """SIGTERM: the engine finishes running transactions and exits."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def rss_kb(self) -> int | None:
        """The resident set of the engine process (from /proc), in KiB."""
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def tail(self, n: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return (self.workdir / "engine.out").read_text(errors="replace")[-n:]
        return ""


def panics(workdir: Path) -> list[str]:
    """Panics and Python tracebacks in the engine's output and log."""
    out = []
    for name in ("engine.out", "engine.log"):
        with contextlib.suppress(OSError):
            for line in (workdir / name).read_text(errors="replace").splitlines():
                if "panicked" in line or "Traceback" in line:
                    out.append(f"{name}: {line[:300]}")
    return out


def dropped_at_once(workdir: Path, books: int) -> list[str]:
    """Fresh feed connections dropped within 5 ms of opening after all ``books`` of the
    connection were declared stale (RELIABILITY.md finding 3), from the engine's log."""
    out: list[str] = []
    state: dict[str, tuple[float, int, str]] = {}
    with contextlib.suppress(OSError):
        for line in (workdir / "engine.log").read_text(errors="replace").splitlines():
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if d.get("target") != "arb_market::feed":
                continue
            f = d.get("fields") or {}
            v, ev, t = str(f.get("venue")), f.get("event"), d.get("ts_ns", 0) / 1e6
            if ev == "connected":
                state[v] = (t, 0, str(d.get("ts", ""))[11:23])
            elif ev == "stale" and v in state:
                t0, n, ts = state[v]
                state[v] = (t0, n + 1, ts)
            elif ev == "reconnect" and v in state:
                t0, n, ts = state.pop(v)
                if n >= books and t - t0 < 5:
                    out.append(f"{v} {ts} UTC ({n} books stale, dropped after {t - t0:.1f} ms)")
    return out
