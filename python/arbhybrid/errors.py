"""Every exception arbhybrid raises, under one base class, :class:`ArbError`.

The native module's errors (a venue's answer by class, bad input, a start-up failure, an
OS resource) and the package's own (configuration, journal, state directory, status,
browser) all derive from it, so ``except arbhybrid.ArbError`` catches whatever the
package raises. Where an error used to be a builtin (``RuntimeError``, ``ValueError``,
``OSError``, ``FileNotFoundError``) it still is one too, so older ``except`` clauses
keep working.
"""

from __future__ import annotations

from arbhybrid._native import (
    ArbError,
    AuthenticationError,
    InsufficientFundsError,
    InvalidOrderError,
    InvalidValueError,
    MalformedError,
    NetworkError,
    RateLimitError,
    RequestTimeout,
    ResourceError,
    StartupError,
    SymbolNotTradableError,
    UnknownOutcomeError,
    VenueError,
)


class ConfigError(ArbError):
    """A configuration that cannot be used. ``problems`` holds one line per problem,
    each starting with the key path it concerns."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))


class JournalError(ArbError):
    """A journal that cannot be read: missing, or not a journal."""


class JournalNotFound(JournalError, FileNotFoundError):
    """The journal file does not exist."""


class NotAJournal(JournalError):
    """The file exists but is not an engine journal (not SQLite, or no journal tables)."""


class StateInUse(ArbError, RuntimeError):
    """Another engine runs on this state directory."""


class EngineNotRunning(ArbError, RuntimeError):
    """No engine answers at the address in the state file (or there is no state file)."""


class BrowserError(ArbError, RuntimeError):
    """Chromium failed, or reported an error in the page."""


__all__ = [
    "ArbError",
    "AuthenticationError",
    "BrowserError",
    "ConfigError",
    "EngineNotRunning",
    "InsufficientFundsError",
    "InvalidOrderError",
    "InvalidValueError",
    "JournalError",
    "JournalNotFound",
    "MalformedError",
    "NetworkError",
    "NotAJournal",
    "RateLimitError",
    "RequestTimeout",
    "ResourceError",
    "StartupError",
    "StateInUse",
    "SymbolNotTradableError",
    "UnknownOutcomeError",
    "VenueError",
]
