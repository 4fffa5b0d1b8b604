"""Logging, metrics and alerts: the Python side of the Rust telemetry ring.

One stream for both languages: Python ``logging`` records reach the same lock-free ring
as the Rust engine's records through :class:`RingHandler`, and hot Python code can skip
``logging`` entirely with :func:`get_logger` (a native ``RingLogger``: one call, no
``LogRecord``). A writer thread in Rust formats and writes everything (console, JSON
lines with rotation), so a log call never waits on I/O.

:func:`setup` wires it from the configuration's ``logging:`` and ``metrics:`` sections
(a pydantic model or a plain mapping), starts ``/metrics`` on a loopback port and the
alert evaluator; :func:`on_alert` delivers alert changes to a callback on the asyncio
loop. Secrets: configuration objects mask themselves (``SecretStr``), and every secret
found in the settings passed to :func:`setup` is also registered with the writer, which
scrubs it from any line that still contains it.
"""

from __future__ import annotations

import atexit
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, SecretStr

from arbhybrid import _native
from arbhybrid.errors import InvalidValueError

__all__ = [
    "RingHandler",
    "Telemetry",
    "apply",
    "get_logger",
    "metrics_text",
    "on_alert",
    "register_secrets",
    "scrub_secrets",
    "setup",
    "shutdown",
]

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is
# logged as a typed field.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)
# A record without ``extra=`` has exactly this many attributes: checking the length
# first skips the key scan on the common path.
_PLAIN_RECORD_LEN = len(logging.LogRecord("", 0, "", 0, "", None, None).__dict__)
_EXC_FORMATTER = logging.Formatter()


class RingHandler(logging.Handler):
    """A ``logging.Handler`` that puts records into the Rust ring.

    The message is ``record.getMessage()`` (plus the traceback, if any); values passed
    with ``extra={...}`` become typed fields. The level filter of the ring applies on
    top of the handler's own.
    """

    def __init__(self, level: int = logging.NOTSET, *, extra_fields: bool = True) -> None:
        super().__init__(level)
        self.extra_fields = extra_fields

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
            if record.exc_info and not record.exc_text:
                record.exc_text = _EXC_FORMATTER.formatException(record.exc_info)
            if record.exc_text:
                msg = f"{msg}\n{record.exc_text}"
            if record.stack_info:
                msg = f"{msg}\n{record.stack_info}"
            fields = None
            attrs = record.__dict__
            if self.extra_fields and len(attrs) > _PLAIN_RECORD_LEN:
                fields = {k: v for k, v in attrs.items() if k not in _STANDARD_ATTRS} or None
            _native.log(record.levelno, record.name, msg, record.created, fields)
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        _native.flush_logging()


@lru_cache(maxsize=1024)
def get_logger(name: str) -> Any:
    """The direct logger for hot code: ``log = get_logger("arbhybrid.strategy")``, then
    ``log.info("edge found", bps=12.5)``. Methods: ``debug``, ``info``, ``warning``,
    ``error``, ``critical``, ``log(levelno, msg)``, ``enabled(levelno)``."""
    return _native.RingLogger(name)


def _plain(obj: Any) -> Any:
    """A settings section as plain JSON-able data (secrets stay masked)."""
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    return obj


def _section(settings: Any, name: str) -> dict[str, Any]:
    if settings is None:
        return {}
    value = settings.get(name) if isinstance(settings, Mapping) else getattr(settings, name, None)
    plain = _plain(value) if value is not None else {}
    if not isinstance(plain, dict):
        raise InvalidValueError(f"{name}: expected a mapping, got {type(value).__name__}")
    return plain


def _secrets_in(obj: Any, depth: int = 0) -> list[str]:
    if depth > 8:
        return []
    if isinstance(obj, SecretStr):
        value = obj.get_secret_value()
        return [value] if value else []
    if isinstance(obj, BaseModel):
        return [s for f in type(obj).model_fields for s in _secrets_in(getattr(obj, f), depth + 1)]
    if isinstance(obj, Mapping):
        return [s for v in obj.values() for s in _secrets_in(v, depth + 1)]
    if isinstance(obj, list | tuple):
        return [s for v in obj for s in _secrets_in(v, depth + 1)]
    return []


def register_secrets(settings: Any) -> int:
    """Registers every ``SecretStr`` value found in ``settings`` with the log writer,
    which then scrubs it from every output line. Returns how many were found."""
    found = _secrets_in(settings)
    for s in found:
        _native.register_secret(s)
    return len(found)


def scrub_secrets(text: str) -> str:
    """``text`` with every registered secret masked, as the log writer masks a line: for
    what reaches the operator another way (a message printed to stderr)."""
    return str(_native.scrub_secrets(text))


@dataclass
class Telemetry:
    """What :func:`setup` started."""

    metrics_port: int | None
    handler: RingHandler

    def shutdown(self) -> None:
        shutdown()


def setup(settings: Any = None, *, alert_interval_s: float = 1.0) -> Telemetry:
    """Configures logging, ``/metrics`` and alerts from ``settings``.

    ``settings`` is the whole configuration (a pydantic ``Settings`` or a mapping with
    ``logging`` and ``metrics`` keys). ``logging``: ``level``, ``ring_capacity``,
    ``overflow`` (``drop_newest`` | ``drop_oldest`` | ``block``), ``console``,
    ``file``, ``rotate_bytes``, ``backups``. ``metrics``: ``enabled``, ``port``
    (loopback; 0 = OS picks), ``alerts`` (threshold overrides by name). Unknown keys
    raise ``ValueError`` naming the key. Idempotent: calling again reconfigures.
    """
    register_secrets(settings)
    log_cfg = _section(settings, "logging")
    _native.configure_logging(json.dumps(log_cfg))
    root = logging.getLogger()
    for h in [h for h in root.handlers if isinstance(h, RingHandler)]:
        root.removeHandler(h)
    handler = RingHandler()
    root.addHandler(handler)
    _set_level(log_cfg)

    metrics_cfg = dict(_section(settings, "metrics"))
    alerts = metrics_cfg.pop("alerts", None) or {}
    enabled = bool(metrics_cfg.pop("enabled", True))
    port = int(metrics_cfg.pop("port", 0))
    if metrics_cfg:
        raise InvalidValueError(f"metrics: unknown key(s) {sorted(metrics_cfg)}")
    bound: int | None = None
    if enabled:
        bound = _native.start_metrics_server(port)
        _native.start_alerts(json.dumps(alerts), alert_interval_s)
    else:
        _native.stop_metrics_server()
        _native.stop_alerts()
    return Telemetry(metrics_port=bound, handler=handler)


def _set_level(log_cfg: Mapping[str, Any]) -> int | None:
    """Sets ``logging.level`` on Python's root logger and on the Rust ring logger (whose
    own filter applies to every record, Python's included); returns the level."""
    level = logging.getLevelName(str(log_cfg.get("level", "INFO")).upper())
    if not isinstance(level, int):
        return None
    logging.getLogger().setLevel(level)
    _native.set_log_level(level)
    return level


def apply(settings: Any) -> int | None:
    """Applies the settings that may change while running: ``logging.level`` (both
    loggers) and ``metrics.alerts`` (the running alert evaluator's thresholds; an unknown
    name raises ``ValueError``). Returns the log level now in force."""
    level = _set_level(_section(settings, "logging"))
    metrics_cfg = _section(settings, "metrics")
    if metrics_cfg.get("enabled", True):
        _native.start_alerts(json.dumps(metrics_cfg.get("alerts") or {}))
    return level


def metrics_text() -> str:
    """The Prometheus text exposition, as ``/metrics`` serves it."""
    return str(_native.metrics_text())


def on_alert(callback: Callable[[dict[str, Any]], object]) -> Any:
    """Calls ``callback(alert)`` on the running asyncio loop for every alert change.

    ``alert`` is ``{"name", "severity", "firing", "value", "threshold", "labels",
    "message"}``; ``firing`` is False when the alert clears. Returns a subscription
    with ``close()``. Must be called from inside the loop.
    """

    def deliver(batch: list[dict[str, Any]]) -> None:
        for alert in batch:
            callback(alert)

    return _native.on_alert(deliver)


def shutdown() -> None:
    """Stops alerts and ``/metrics``, then writes every record still in the ring."""
    _native.telemetry_shutdown()


# Drain the ring before the interpreter goes away (runs before logging's own atexit
# hook, which was registered earlier).
atexit.register(shutdown)
