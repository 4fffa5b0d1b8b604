"""The running engine's status endpoint, and the client ``python -m arbhybrid status`` uses.

A running main job answers on a loopback HTTP port (``127.0.0.1:0``, the OS picks):
``GET /status`` returns ``{"pid", "started_at", "journal", "snapshot", "alerts"}`` as
JSON (the engine's snapshot as ``RunningEngine.snapshot()`` gives it, and the alerts
firing now); ``GET /health`` returns ``{"ok": true}``. It only reads: nothing in it
changes the engine, and the snapshot holds no secret. Its address is written to a small
state file (``engine.json`` beside the journal) that the ``status`` command reads; the
file is removed when the engine stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arbhybrid.errors import EngineNotRunning as EngineNotRunning  # its old home
from arbhybrid.types import Snapshot

#: Where ``status`` looks by default (beside the default journal ``runs/journal.sqlite``).
DEFAULT_STATE_FILE = "runs/engine.json"
_MAX_REQUEST = 8192


def state_file_for(journal_path: str | Path) -> Path:
    """The state file a main job with this journal writes."""
    return Path(journal_path).parent / "engine.json"


class StatusServer:
    """A started status endpoint; ``close()`` stops it and removes its state file."""

    def __init__(
        self,
        snapshot: Callable[[], Snapshot],
        state_file: Path,
        journal: str,
        alerts: bool,
    ) -> None:
        self._snapshot = snapshot
        self.state_file = state_file
        self.journal = journal
        self.started_at = time.time()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._firing: dict[tuple[str, str], dict[str, Any]] = {}
        self._alerts = alerts
        self._alert_sub: Any = None

    async def start(self) -> StatusServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        if self._alerts:
            with contextlib.suppress(Exception):  # no telemetry: status without alerts
                from arbhybrid import telemetry

                self._alert_sub = telemetry.on_alert(self._on_alert)
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "url": f"http://127.0.0.1:{self.port}",
                    "port": self.port,
                    "started_at": self.started_at,
                    "journal": self.journal,
                }
            ),
            encoding="utf-8",
        )
        tmp.replace(self.state_file)  # readers never see half a file
        return self

    def _on_alert(self, alert: dict[str, Any]) -> None:
        labels = ",".join(f"{k}={v}" for k, v in sorted((alert.get("labels") or {}).items()))
        key = (str(alert.get("name")), labels)
        if alert.get("firing"):
            self._firing[key] = alert
        else:
            self._firing.pop(key, None)

    def body(self) -> dict[str, Any]:
        """What ``GET /status`` answers."""
        return {
            "pid": os.getpid(),
            "started_at": self.started_at,
            "journal": self.journal,
            "snapshot": self._snapshot(),
            "alerts": list(self._firing.values()),
        }

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            if len(head) > _MAX_REQUEST:
                raise ValueError("request too large")
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            path = target.split("?", 1)[0]
            payload: dict[str, Any]
            if method != "GET":
                status, payload = "405 Method Not Allowed", {"error": "only GET"}
            elif path == "/status":
                try:
                    status, payload = "200 OK", self.body()
                except Exception as e:  # e.g. the engine is stopping: answered, not raised
                    status, payload = "503 Service Unavailable", {"error": str(e)}
            elif path == "/health":
                status, payload = "200 OK", {"ok": True}
            else:
                status, payload = "404 Not Found", {"error": f"no such path {path}"}
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            writer.close()
            return
        except Exception as e:  # a malformed request is answered, not raised
            status, payload = "400 Bad Request", {"error": f"bad request: {e}"}
        data = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
            + data
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._alert_sub is not None:
            with contextlib.suppress(Exception):
                self._alert_sub.close()
            self._alert_sub = None
        # Only our own file: another engine may have started since and written its own.
        with contextlib.suppress(OSError, ValueError):
            if json.loads(self.state_file.read_text())["pid"] == os.getpid():
                self.state_file.unlink()


async def serve_status(
    snapshot: Callable[[], Snapshot],
    journal: str | Path,
    *,
    state_file: str | Path | None = None,
    alerts: bool = True,
) -> StatusServer:
    """Starts the status endpoint on a loopback port and writes its state file (by
    default ``engine.json`` beside the journal). Must be called inside the loop."""
    path = Path(state_file) if state_file is not None else state_file_for(journal)
    return await StatusServer(snapshot, path, str(journal), alerts).start()


@dataclass(frozen=True)
class EngineState:
    """What ``status`` learned: the state file's contents and the engine's answer."""

    state_file: Path
    pid: int
    url: str
    status: dict[str, Any]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def query(state_file: str | Path = DEFAULT_STATE_FILE, timeout_s: float = 3.0) -> EngineState:
    """Asks the engine named in ``state_file`` for its state.

    Raises ``EngineNotRunning`` with the reason when there is no state file, its process
    is gone, or nothing answers at its address.
    """
    path = Path(state_file)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        pid, url = int(info["pid"]), str(info["url"])
    except FileNotFoundError:
        raise EngineNotRunning(
            f"no engine running: {path} does not exist (start one with python -m arbhybrid)"
        ) from None
    except (ValueError, KeyError, TypeError) as e:
        raise EngineNotRunning(f"{path} is not a valid engine state file: {e}") from None
    if not _pid_alive(pid):
        raise EngineNotRunning(f"no engine running: process {pid} from {path} has exited")
    try:
        with urllib.request.urlopen(f"{url}/status", timeout=timeout_s) as resp:
            body = json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise EngineNotRunning(f"engine {pid} does not answer at {url}: {e}") from None
    return EngineState(path, pid, url, body)
