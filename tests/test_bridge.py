"""The Rust -> Python bridge: callbacks on the loop thread, batching, errors, awaitables."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading

import pytest

from arbhybrid import _native


async def wait_until(pred, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


async def test_events_arrive_in_order_on_the_loop_thread_in_batches() -> None:
    got: list[tuple[int, int]] = []
    threads: set[int] = set()

    def cb(batch: list[tuple[int, int]]) -> None:
        threads.add(threading.get_ident())
        got.extend(batch)

    n = 50_000
    ticker = _native.start_ticker(cb, 0, n)
    await wait_until(lambda: ticker.done and len(got) == n)
    assert [seq for seq, _ in got] == list(range(n))
    assert threads == {threading.get_ident()}
    delivered, batches, errors = ticker.stats()
    assert delivered == n and errors == 0
    assert batches < n  # batched per wake-up, not one crossing per event


async def test_raising_callback_is_logged_and_delivery_continues(
    caplog: pytest.LogCaptureFixture,
) -> None:
    got: list[int] = []
    calls = 0

    def cb(batch: list[tuple[int, int]]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ValueError("boom from callback")
        got.extend(seq for seq, _ in batch)

    caplog.set_level(logging.ERROR, logger="arbhybrid.bridge")
    ticker = _native.start_ticker(cb, 1000, 30)
    await wait_until(lambda: ticker.done and ticker.stats()[0] == 30)
    _, _, errors = ticker.stats()
    assert errors == 1
    recs = [r for r in caplog.records if r.name == "arbhybrid.bridge"]
    assert len(recs) == 1 and "callback raised" in recs[0].getMessage()
    assert recs[0].exc_info is not None and "boom from callback" in str(recs[0].exc_info[1])
    assert got and got[-1] == 29  # later batches still delivered


async def test_stop_ends_stream() -> None:
    got: list[tuple[int, int]] = []
    ticker = _native.start_ticker(got.extend, 2000, 1_000_000)
    await wait_until(lambda: len(got) >= 3)
    ticker.stop()
    await wait_until(lambda: ticker.done)

    async def another_stream_delivered() -> None:
        # Events of a new stream reach the loop after any drain the stopped one still
        # had scheduled (`done` is set after its last push): waiting for them replaces
        # waiting for time to pass.
        control: list[tuple[int, int]] = []
        t = _native.start_ticker(control.extend, 0, 100)
        await wait_until(lambda: t.done and len(control) == 100)

    await another_stream_delivered()
    final = len(got)
    assert [seq for seq, _ in got] == list(range(final))
    assert final < 1_000_000  # ended at the stop, not at its count
    await another_stream_delivered()
    assert len(got) == final  # and nothing arrived since
    assert ticker.stats()[0] == final


async def test_awaitable_rust_calls() -> None:
    obj = {"k": [1, 2]}
    assert await _native.echo(obj) is obj
    results = await asyncio.gather(*(_native.sleep_ms(20) for _ in range(50)))
    assert results == [20] * 50


def test_interpreter_exit_does_not_hang_with_live_stream() -> None:
    code = (
        "import asyncio, arbhybrid\n"
        "from arbhybrid import _native\n"
        "async def main():\n"
        "    t = _native.start_ticker(lambda b: None, 100, 10**9)\n"
        "    await asyncio.sleep(0.1)\n"
        "asyncio.run(main())\n"
        "print('exited')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "exited"
