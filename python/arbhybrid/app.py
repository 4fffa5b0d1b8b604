"""The main job: start the venues (the embedded simulator unless ``--live``), the engine,
and run until Ctrl-C or ``--duration``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from arbhybrid.config import LiveConfig, Settings

log = logging.getLogger("arbhybrid")


def run(
    settings: Settings,
    *,
    config_path: str | Path,
    duration: float | None,
    live: bool,
    dry_run: bool,
) -> int:
    """Runs the main job; returns the process exit code."""
    if live:
        missing = [
            name for name, ex in settings.exchanges.items() if ex.enabled and not ex.has_keys
        ]
        if missing:
            print(
                f"--live needs API keys for: {', '.join(missing)} (set them in .env; "
                "see .env.example)",
                file=sys.stderr,
            )
            return 2
    logging.basicConfig(
        level=settings.logging.level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return asyncio.run(_main(settings, Path(config_path), duration, live, dry_run))
    except KeyboardInterrupt:
        return 130


async def _main(
    settings: Settings, config_path: Path, duration: float | None, live: bool, dry_run: bool
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    live_cfg = LiveConfig(config_path, settings)
    watcher = asyncio.create_task(live_cfg.watch())
    log.info("arbhybrid starting (mode=%s, live=%s, dry_run=%s)", settings.mode, live, dry_run)
    try:
        if duration is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration)
        else:
            await stop.wait()
    finally:
        watcher.cancel()
    log.info("arbhybrid stopped")
    return 0
