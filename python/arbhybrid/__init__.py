"""arbhybrid: cross-exchange spot arbitrage for MEXC and Gate.io.

The hot path (feeds, books, detection, order submission, logging) is Rust, compiled into
``arbhybrid._native``; this package supplies configuration, strategy parameters, risk
rules and orchestration.
"""

from __future__ import annotations

import atexit

from arbhybrid import _native

__version__ = _native.__version__

# Stop every Rust task before the interpreter finalizes, so no runtime thread calls
# into a dying interpreter and exit never hangs.
atexit.register(_native.shutdown)

__all__ = ["__version__"]
