"""The status endpoint under hostile clients: one that sends 64 MB without ending its
request head, and one that sends a byte at a time. Neither may grow the engine by what
it sends nor hold up a concurrent ``status`` query (the asyncio server serves every
connection as its own task and bounds the head in size and in time)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from arbhybrid import status


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[status.StatusServer]:
    s = await status.serve_status(lambda: {"ok": True}, tmp_path / "journal.sqlite", alerts=False)
    yield s
    s.close()


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def flood(port: int, total: int) -> int:
    """Sends up to ``total`` bytes of one header line; returns how many went out before
    the server closed the connection."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET /status HTTP/1.1\r\nX-Junk: ")
        chunk = b"a" * 65536
        try:
            while sent < total:
                s.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
    return sent


def slow(port: int, n: int, started: threading.Event, done: threading.Event) -> bool:
    """Sends a request head one byte every 50 ms without ending it; True if the server
    closed the connection before ``n`` bytes."""
    head = b"GET /status HTTP/1.1\r\nX-Slow: "
    cut = False
    with socket.create_connection(("127.0.0.1", port)) as s:
        for i in range(n):
            try:
                s.sendall(head[i : i + 1] or b"a")
            except OSError:
                cut = True
                break
            started.set()
            threading.Event().wait(0.05)
    done.set()
    return cut


async def test_an_oversized_request_is_cut_off(server: status.StatusServer) -> None:
    before = rss_bytes()
    sent = await asyncio.to_thread(flood, server.port, 64 * 1024 * 1024)
    assert sent < 64 * 1024 * 1024, "the endpoint read all 64 MB"
    assert rss_bytes() < before + 16 * 1024 * 1024
    got = await asyncio.to_thread(status.query, server.state_file)
    assert got.status["snapshot"] == {"ok": True}


async def test_a_slow_client_does_not_block_a_query(server: status.StatusServer) -> None:
    started, done = threading.Event(), threading.Event()
    t = asyncio.create_task(asyncio.to_thread(slow, server.port, 60, started, done))
    await asyncio.to_thread(started.wait)
    got = await asyncio.to_thread(status.query, server.state_file)
    assert not done.is_set(), "the query waited for the slow client"
    assert got.status["snapshot"] == {"ok": True}
    await t


async def test_a_slow_client_is_cut_off(server: status.StatusServer) -> None:
    # 1,000 bytes at 50 ms: 50 s, far beyond the head's time limit.
    cut = await asyncio.to_thread(slow, server.port, 1000, threading.Event(), threading.Event())
    assert cut, "the slow client was never disconnected"
