"""No native thread enters Python while the interpreter finalizes.

A Rust thread that attaches to a finalizing interpreter kills the process (SIGABRT or
SIGSEGV, ``Fatal Python error: PyGILState_Release``) after the program chose its exit
code: a supervisor then reads -6 instead of 2, and the last journal writes or alerts can
be lost. It was seen with the engine's refusal of a foreign journal (exit 2), where feed
events were still being pushed as the process exited. Here the same shape, reduced: event
sources push from runtime threads while the program exits from inside its asyncio loop.
Before the fix 1 to 6 in 20 such exits died with SIGABRT (-6); forty in a row all
passing by chance was then well under 1 in 1000.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

RUNS = 40

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from arbhybrid import _native

    async def main():
        # Four timer streams, one event every ~10 us each (the runtime's timer makes
        # that about one a millisecond): runtime threads enter Python all the time.
        tickers = [_native.start_ticker(lambda batch: None, 10, 10**15) for _ in range(4)]
        await asyncio.sleep(0.05)
        assert all(t.stats()[0] > 0 for t in tickers), "no event was delivered"
        sys.exit(2)

    asyncio.run(main())
    """
)


def test_exit_code_survives_native_events_at_exit() -> None:
    results = []
    for _ in range(RUNS):
        p = subprocess.run(
            [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60
        )
        results.append((p.returncode, p.stderr))
    bad = [(rc, err[-2000:]) for rc, err in results if rc != 2 or "Fatal Python error" in err]
    assert not bad, f"{len(bad)} of {RUNS} exits were not a clean exit 2: {bad[:3]}"
