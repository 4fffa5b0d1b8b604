"""Configuration: ``.env`` + ``config.yaml`` with placeholders, overlays and a strict schema.

Loading order (later wins):

1. ``config.yaml`` (or ``--config PATH``).
2. The overlay ``config.<ARB_ENV>.yaml`` beside it, when ``ARB_ENV`` is set (deep merge:
   mappings merge key by key, anything else replaces).
3. Environment overrides ``ARB__<SECTION>__<KEY>=value`` (double underscores separate the
   key path, e.g. ``ARB__STRATEGY__MIN_EDGE_BPS=7``); the value is taken as the string it
   is and converted by the schema, except for a list or mapping key, read as YAML.

Then ``${VAR}`` and ``${VAR:-default}`` placeholders in string values are resolved from the
environment, which includes ``.env`` (loaded first, never overriding a variable that is
already set). A missing variable without a default is an error naming the variable and the
key. The result is validated by the pydantic models below: unknown keys and wrong types are
rejected with their full key path. Secrets are ``SecretStr``: masked in every repr, log line,
error and in ``config check``.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from dotenv import load_dotenv
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from arbhybrid.errors import ConfigError as ConfigError  # its old home, still imported from here

DEFAULT_CONFIG_PATH = Path("config.yaml")
ENV_OVERRIDE_PREFIX = "ARB__"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_UNIFIED_SYMBOL = re.compile(r"^[A-Z0-9]+/[A-Z0-9]+$")
_OVERLAY_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


# ---------------------------------------------------------------------------------------
# Schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


PositiveDecimal = Annotated[Decimal, Field(gt=0)]
#: ``"package.module:name"`` (``name`` may be dotted: ``module:Class.method``).
ImportPath = Annotated[
    str,
    Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_.]*$"),
]
NonNegDecimal = Annotated[Decimal, Field(ge=0)]


class Timeouts(_Strict):
    connect_ms: int = Field(3000, gt=0, description="TCP/TLS connect timeout")
    request_ms: int = Field(5000, gt=0, description="whole-request timeout for REST calls")


#: The venue kinds with adapters (each a folder per layer); a venue's ``kind`` names one.
VENUE_KINDS: tuple[str, ...] = ("mexc", "gateio")
#: A configured venue's name (its key under ``exchanges:``), as the engine accepts it.
VENUE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,23}$")


class ExchangeConfig(_Strict):
    """One venue: credentials (secrets), endpoints and connection settings."""

    #: Which adapter speaks for it; may be left out when the venue's name is a kind's
    #: (``mexc``, ``gateio``). A second MEXC account is ``mexc_b: {kind: mexc, ...}``.
    kind: str | None = None
    enabled: bool = True
    api_key: SecretStr = SecretStr("")
    api_secret: SecretStr = SecretStr("")
    rest_url: str
    ws_url: str
    timeouts: Timeouts = Timeouts()
    pool_size: int = Field(100, gt=0, le=1000)
    rate_limit: bool = Field(
        True, description="enforce the venue's documented request limits on our side"
    )
    order_path: Literal["rest", "ws"] = "rest"
    recv_window_ms: int = Field(5000, gt=0, le=60000)
    order_idle_ms: int = Field(
        50000,
        ge=1000,
        le=600000,
        description="an order connection idle this long is replaced before it carries an "
        "order (below the venue's own idle timeout)",
    )

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str | None) -> str | None:
        if v is not None and v not in VENUE_KINDS:
            raise ValueError(f"unknown venue kind {v!r} (one of {', '.join(VENUE_KINDS)})")
        return v

    @field_validator("rest_url", "ws_url")
    @classmethod
    def _url_scheme(cls, v: str, info: Any) -> str:
        allowed = ("http://", "https://") if info.field_name == "rest_url" else ("ws://", "wss://")
        if not v.startswith(allowed):
            raise ValueError(f"must start with {' or '.join(allowed)}")
        return v.rstrip("/") if info.field_name == "rest_url" else v

    @property
    def has_keys(self) -> bool:
        return bool(self.api_key.get_secret_value() and self.api_secret.get_secret_value())


class Exchanges(RootModel[dict[str, ExchangeConfig]]):
    """``exchanges:``: the venues by name, in the file's order. Each has a ``kind``
    (defaulting to its name when that is a kind's); at least two must be enabled."""

    @model_validator(mode="after")
    def _names_and_kinds(self) -> Exchanges:
        for name, ex in self.root.items():
            if not VENUE_NAME.match(name):
                raise ValueError(
                    f"venue name {name!r}: 1 to 24 characters of a-z, 0-9 and _, "
                    "starting with a letter"
                )
            if ex.kind is None and name not in VENUE_KINDS:
                raise ValueError(
                    f"{name}.kind: required for a venue not named after its kind "
                    f"(one of {', '.join(VENUE_KINDS)})"
                )
        return self

    def kind_of(self, name: str) -> str:
        """The venue's kind: its ``kind``, else its name (validated to be a kind's)."""
        return self.root[name].kind or name

    def items(self) -> Iterator[tuple[str, ExchangeConfig]]:
        yield from self.root.items()

    def enabled(self) -> list[tuple[str, ExchangeConfig]]:
        """The enabled venues, in the file's order: the ones the engine trades."""
        return [(n, ex) for n, ex in self.root.items() if ex.enabled]

    def __getitem__(self, name: str) -> ExchangeConfig:
        return self.root[name]

    def __contains__(self, name: object) -> bool:
        return name in self.root

    def __getattr__(self, name: str) -> ExchangeConfig:
        # ``settings.exchanges.mexc``: attribute access to a venue by name.
        root = self.__dict__.get("root")
        if root is not None and name in root:
            return root[name]  # type: ignore[no-any-return]
        raise AttributeError(name)


class StrategyConfig(_Strict):
    """Strategy parameters; hot-reloadable."""

    symbols: list[str] = Field(min_length=1)
    min_edge_bps: Decimal = Field(ge=0, description="edge after fees and slippage to act")
    slippage_buffer_bps: NonNegDecimal = Decimal("2")
    trade_notional: PositiveDecimal = Field(description="target quote notional per arbitrage")
    order_style: Literal["market_limit", "ioc_both"] = "market_limit"
    #: MEXC buy leg of market_limit: IOC limit at the worst ask detection priced (never
    #: fills beyond it), or a market order (fills whatever the book holds by then).
    mexc_buy_order: Literal["ioc_limit", "market"] = "ioc_limit"
    #: Where a venue takes no API market orders for a symbol (MEXC lists some so), the
    #: leg is an IOC limit at the price that walks that venue's book to the size, this
    #: many bps further through the book.
    market_fallback_bps: NonNegDecimal = Decimal("10")
    hedge_policy: Literal["chase", "unwind", "hold"] = "unwind"
    cooldown_ms: int = Field(500, ge=0)
    balance_mode: Literal["fresh", "stream"] = "fresh"
    python_risk_mode: Literal["veto", "notify"] = "notify"
    #: Your own risk rules, consulted in ``veto`` mode after the built-in ones: each
    #: ``"module:function"`` names a ``Rule`` (``VetoRequest -> bool``), imported at
    #: start-up (an import that fails stops it). Python-side only: not sent to the engine.
    python_rules: list[ImportPath] = []
    #: Your own event hooks: each ``"module:function"`` is called with every engine event
    #: (``EngineEvent``) on the loop; one that raises is logged and the run goes on.
    python_hooks: list[ImportPath] = []

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if not _UNIFIED_SYMBOL.match(s)]
        if bad:
            raise ValueError(f"symbols must look like BASE/QUOTE in capitals, got {bad}")
        if len(set(v)) != len(v):
            raise ValueError("symbols must not repeat")
        return v


class KillSwitches(_Strict):
    leg_imbalance_notional: PositiveDecimal = Decimal("200")
    consecutive_hedge_failures: int = Field(3, gt=0)
    resyncs_per_minute: int = Field(30, gt=0)


class RiskConfig(_Strict):
    """Risk limits, in quote currency unless stated; hot-reloadable."""

    max_position_per_asset: PositiveDecimal = Field(description="base units, per asset per venue")
    max_total_exposure: PositiveDecimal
    max_notional_per_trade: PositiveDecimal
    daily_loss_limit: PositiveDecimal
    max_open_arbitrages: int = Field(gt=0)
    max_book_age_ms: int = Field(1000, gt=0, description="refuse decisions on older books")
    max_balance_age_ms: int = Field(2000, gt=0, description="refuse decisions on older balances")
    kill_switches: KillSwitches = KillSwitches()


class MarketDataConfig(_Strict):
    staleness_ms: int = Field(5000, gt=0, description="a book older than this is not tradable")
    reconnect_after_stale_ms: int = Field(15000, gt=0)
    gate_channel: Literal["obu", "order_book_update"] = "obu"

    @model_validator(mode="after")
    def _order(self) -> MarketDataConfig:
        if self.reconnect_after_stale_ms <= self.staleness_ms:
            raise ValueError("reconnect_after_stale_ms must be greater than staleness_ms")
        return self


class LoggingConfig(_Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    ring_capacity: int = Field(10_000, ge=16)
    overflow: Literal["drop_newest", "drop_oldest", "block"] = "drop_newest"
    console: bool = True
    file: str | None = "runs/arbhybrid.log"
    rotate_bytes: int = Field(10 * 1024 * 1024, gt=0)
    backups: int = Field(5, ge=0)


class MetricsConfig(_Strict):
    enabled: bool = True
    port: int = Field(0, ge=0, le=65535, description="loopback port for /metrics; 0 = OS picks")
    alerts: dict[str, float] = Field(
        default_factory=dict, description="alert thresholds overriding the defaults, by name"
    )


class JournalConfig(_Strict):
    path: str = "runs/journal.sqlite"


#: Client order ids are ``<instance>_<tx in base 36, up to 13>_<leg, up to 4 ("u255")>``.
#: Gate's ``text`` is ``t-`` plus at most 28 bytes of ``[0-9A-Za-z_.-]``; MEXC's
#: ``newClientOrderId`` at most 32 characters. ``_`` separates the parts, so the
#: instance itself is lowercase letters and digits (what ``rust/exec`` accepts).
_CLIENT_ID_MAX = 28
_CLIENT_ID_REST = 1 + 13 + 1 + 4
_INSTANCE_RE = re.compile(r"[a-z0-9]{1,6}")


class HotSettings(_Strict):
    """Where the hot path runs (``engine.hot``; restart to change): feeds, detection,
    risk, order building and the order connections on one thread of their own."""

    thread: bool = True
    #: Pin the hot thread to this core (e.g. the one a busy-polling thread may burn).
    core: int | None = Field(None, ge=0)
    #: Spin instead of sleeping while idle: lowest latency, and that core runs at 100 %.
    busy_poll: bool = False
    warm_connections: int = Field(2, ge=0, le=32)
    rewarm_ms: int = Field(20_000, ge=1_000)


class EngineSettings(_Strict):
    """Who this engine is: ``instance`` prefixes its client order ids, and recovery at
    start-up touches only orders and fills with exactly this prefix, so two engines on
    one account leave each other alone. Recorded in the journal; restart to change."""

    instance: str = "arb"
    hot: HotSettings = HotSettings()

    @field_validator("instance")
    @classmethod
    def _fits_both_venues(cls, v: str) -> str:
        if not _INSTANCE_RE.fullmatch(v) or len(v) + _CLIENT_ID_REST > _CLIENT_ID_MAX:
            raise ValueError(
                f"{v!r} must be 1-6 lowercase letters or digits, so that client order ids "
                f"<instance>_<tx>_<leg> fit Gate's text (t- + 28 bytes of [0-9A-Za-z_.-]) "
                "and MEXC's clientOrderId (32 characters)"
            )
        return v


class SimulatorPorts(_Strict):
    mexc: int = Field(0, ge=0, le=65535)
    gateio: int = Field(0, ge=0, le=65535)
    admin: int = Field(0, ge=0, le=65535)


class SimulatorSettings(_Strict):
    """The embedded exchange simulator (the default venue when no keys are given)."""

    seed: int = 7
    symbols: list[str] | None = Field(
        None,
        description="what it lists; default: those of strategy.symbols it has rules for"
        " (a symbol it does not list stops the engine's start, as on a real venue)",
    )
    ports: SimulatorPorts = SimulatorPorts()
    trader_balances: dict[str, Decimal] = Field(default_factory=dict)
    update_rate_hz: float = Field(50.0, gt=0)
    opportunity_rate_per_min: float = Field(6.0, ge=0)
    first_gap_s: float = Field(
        3.0, ge=0, description="a first gap opens this early if none has (0: random only)"
    )
    rate_limits: bool = True
    #: MEXC's read-after-write lag: its order query answers -2013 for this long after
    #: accepting an order, as the real venue does briefly.
    mexc_read_lag_ms: int = Field(300, ge=0)
    #: Venues (by name) whose simulated key may read but not trade (for ``doctor``).
    read_only_keys: list[str] = []


class Settings(_Strict):
    """The whole validated configuration."""

    mode: Literal["sim", "live"] = "sim"
    exchanges: Exchanges
    strategy: StrategyConfig
    risk: RiskConfig
    market_data: MarketDataConfig = MarketDataConfig()
    logging: LoggingConfig = LoggingConfig()
    metrics: MetricsConfig = MetricsConfig()
    journal: JournalConfig = JournalConfig()
    engine: EngineSettings = EngineSettings()
    health_interval_s: int = Field(30, gt=0)
    simulator: SimulatorSettings = SimulatorSettings()

    def masked(self) -> dict[str, Any]:
        """The configuration as plain data with every secret replaced by ``**********``
        (or ``""`` when unset), for printing."""
        return _masked_dump(self)


def _masked_dump(model: BaseModel) -> dict[str, Any]:
    if isinstance(model, RootModel):
        # ``exchanges``: keyed by venue name, with no ``root`` level in key paths.
        root: dict[str, Any] = _masked_value(model.root)
        return root
    out: dict[str, Any] = {}
    for name in type(model).model_fields:
        out[name] = _masked_value(getattr(model, name))
    return out


def _masked_value(v: Any) -> Any:
    if isinstance(v, SecretStr):
        return "**********" if v.get_secret_value() else ""
    if isinstance(v, BaseModel):
        return _masked_dump(v)
    if isinstance(v, Mapping):
        return {k: _masked_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_masked_value(x) for x in v]
    if isinstance(v, Decimal):
        return str(v)
    return v


# ---------------------------------------------------------------------------------------
# Loading


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _deep_merge(dict(out[k]), v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError([f"{path}: cannot read: {e.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError([f"{path}:{where}: invalid YAML: {problem}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: top level must be a mapping, got {type(data).__name__}"])
    return data


def _apply_env_overrides(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for name in sorted(environ):
        if not name.startswith(ENV_OVERRIDE_PREFIX):
            continue
        path = [p.lower() for p in name[len(ENV_OVERRIDE_PREFIX) :].split("__") if p]
        if not path:
            continue
        node = out
        for key in path[:-1]:
            nxt = node.get(key)
            if not isinstance(nxt, dict):
                nxt = {}
                node[key] = nxt
            node = nxt
        raw = environ[name]
        # The string as it is (the schema converts "7" to a number): YAML would cut a
        # secret at " #", read "0123" as 123 and "yes" as True. Only a key the schema
        # types as a list or mapping is read as YAML (flow or JSON: `[BTC/USDT, ETH/USDT]`).
        value: Any = raw
        if raw and _wants_collection(path):
            try:
                value = yaml.safe_load(raw)
            except yaml.YAMLError:
                value = raw
        node[path[-1]] = value
    return out


def _wants_collection(path: list[str]) -> bool:
    """True when the schema types the key at ``path`` as a list, mapping or section."""
    model: Any = Settings
    for i, key in enumerate(path):
        if isinstance(model, type) and issubclass(model, RootModel):
            # A mapping by name (``exchanges``): every key is one of its values.
            model = get_args(model.model_fields["root"].annotation)[1]
            if i == len(path) - 1:
                return True
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None or key not in fields:
            return False
        ann = fields[key].annotation
        if i == len(path) - 1:
            kinds = get_args(ann) if get_origin(ann) in (Union, UnionType) else (ann,)
            return any(
                get_origin(k) in (list, dict) or (isinstance(k, type) and issubclass(k, BaseModel))
                for k in kinds
            )
        model = ann
    return False


def _resolve_placeholders(
    node: Any, environ: Mapping[str, str], path: str, problems: list[str]
) -> Any:
    if isinstance(node, dict):
        return {
            k: _resolve_placeholders(v, environ, f"{path}.{k}" if path else str(k), problems)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [
            _resolve_placeholders(v, environ, f"{path}[{i}]", problems) for i, v in enumerate(node)
        ]
    if not isinstance(node, str) or "${" not in node:
        return node

    def sub(m: re.Match[str]) -> str:
        var, default = m.group(1), m.group(2)
        if var in environ:
            return environ[var]
        if default is not None:
            return default
        problems.append(
            f"{path}: environment variable {var} is not set (and the placeholder has no "
            f"default; write ${{{var}:-value}} to give one)"
        )
        return ""

    return _PLACEHOLDER.sub(sub, node)


def _format_validation_error(err: ValidationError) -> list[str]:
    problems = []
    for e in err.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            problems.append(f"{loc}: unknown key")
        elif e["type"] == "missing":
            problems.append(f"{loc}: required key is missing")
        else:
            msg = e["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            problems.append(f"{loc}: {msg}")
    return problems


def load_raw(path: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """The merged, placeholder-resolved data before validation."""
    data = _read_yaml(path)
    overlay_name = environ.get("ARB_ENV")
    if overlay_name:
        if not _OVERLAY_NAME.match(overlay_name):
            raise ConfigError(
                [
                    f"ARB_ENV={overlay_name!r}: an overlay name is letters, digits, '-' and '_' "
                    "(it selects config.<name>.yaml beside the configuration)"
                ]
            )
        overlay = path.with_name(f"{path.stem}.{overlay_name}{path.suffix}")
        if not overlay.exists():
            raise ConfigError([f"ARB_ENV={overlay_name}: overlay file {overlay} does not exist"])
        data = _deep_merge(data, _read_yaml(overlay))
    data = _apply_env_overrides(data, environ)
    problems: list[str] = []
    data = _resolve_placeholders(data, environ, "", problems)
    if problems:
        raise ConfigError(problems)
    assert isinstance(data, dict)  # placeholders resolve inside the mapping, never to it
    return data


def load_config(
    path: str | Path = DEFAULT_CONFIG_PATH,
    *,
    environ: Mapping[str, str] | None = None,
    dotenv_path: str | Path | None = None,
) -> Settings:
    """Loads, resolves and validates the configuration.

    ``.env`` is read from ``dotenv_path`` or, by default, from beside the config file and
    the current directory; variables already in the environment win over ``.env``.

    Raises:
        ConfigError: with one line per problem, each naming its key path.
    """
    path = Path(path)
    if environ is None:
        for candidate in (
            [Path(dotenv_path)] if dotenv_path else [path.parent / ".env", Path(".env")]
        ):
            if candidate.is_file():
                load_dotenv(candidate, override=False)
        environ = os.environ
    data = load_raw(path, environ)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_format_validation_error(e)) from None
    return _paths_from(settings, path.parent)


def _paths_from(settings: Settings, folder: Path) -> Settings:
    """The configuration's relative paths (journal, log file) read from the folder of
    the file that names them, not from wherever the command happens to run: ``run
    --config /abs/config.yaml`` from elsewhere keeps its state beside that file."""

    def resolved(p: str) -> str:
        return p if Path(p).is_absolute() else str((folder / p).absolute())

    journal = settings.journal.model_copy(update={"path": resolved(settings.journal.path)})
    logging = settings.logging
    if logging.file:
        logging = logging.model_copy(update={"file": resolved(logging.file)})
    return settings.model_copy(update={"journal": journal, "logging": logging})


# ---------------------------------------------------------------------------------------
# Runtime updates

#: Key-path prefixes that may change while running. Everything else (keys, URLs, which
#: venues are enabled, ports, journal, simulator) needs a restart.
HOT_RELOADABLE: tuple[str, ...] = (
    "strategy.min_edge_bps",
    "strategy.slippage_buffer_bps",
    "strategy.trade_notional",
    "strategy.order_style",
    "strategy.mexc_buy_order",
    "strategy.hedge_policy",
    "strategy.cooldown_ms",
    "strategy.python_risk_mode",
    "risk.",
    "logging.level",
    "metrics.alerts",
)


def _leaves(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict) and d:
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def diff_settings(old: Settings, new: Settings) -> dict[str, tuple[Any, Any]]:
    """Changed leaf key paths -> (old, new), with secrets masked."""
    a, b = _leaves(old.masked()), _leaves(new.masked())
    changed = {}
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            changed[key] = (a.get(key), b.get(key))
    # A secret edited to another non-empty secret masks to the same string: compare raw.
    for venue, ex_old in old.exchanges.items():
        if venue not in new.exchanges:
            continue
        ex_new = new.exchanges[venue]
        for field in ("api_key", "api_secret"):
            if getattr(ex_old, field) != getattr(ex_new, field):
                key = f"exchanges.{venue}.{field}"
                changed.setdefault(key, ("**********", "**********"))
    return changed


def is_hot_reloadable(key: str) -> bool:
    return any(
        key == p or (p.endswith(".") and key.startswith(p)) or key.startswith(p + ".")
        for p in HOT_RELOADABLE
    )


Listener = Callable[[Settings, dict[str, tuple[Any, Any]]], None]


class LiveConfig:
    """The running configuration: re-reads its file, applies what may change while running
    (audit line per change: ``config change strategy.min_edge_bps: 5 -> 7``), and refuses
    the rest with a message naming the key until restart."""

    def __init__(
        self,
        path: str | Path,
        settings: Settings | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        import logging

        self.path = Path(path)
        self._environ = environ
        self.current = settings if settings is not None else load_config(self.path, environ=environ)
        self._listeners: list[Listener] = []
        self._log = logging.getLogger("arbhybrid.config")
        self._mtime = self._stat()

    def _stat(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    def subscribe(self, listener: Listener) -> None:
        """``listener(new_settings, applied_changes)`` runs after each applied reload."""
        self._listeners.append(listener)

    def reload(self) -> dict[str, tuple[Any, Any]]:
        """Re-reads the file. Returns the applied changes (key -> (old, new)).

        An invalid file leaves the running configuration untouched (logged). Changes to
        settings that need a restart are refused (logged) and not applied; the others
        are applied.
        """
        try:
            new = load_config(self.path, environ=self._environ)
        except ConfigError as e:
            for p in e.problems:
                self._log.error("config reload rejected, running configuration kept: %s", p)
            return {}
        changes = diff_settings(self.current, new)
        if not changes:
            return {}
        refused = {k: v for k, v in changes.items() if not is_hot_reloadable(k)}
        applied = {k: v for k, v in changes.items() if is_hot_reloadable(k)}
        for key in refused:
            self._log.warning(
                "config change %s refused: this setting cannot change while running; "
                "restart to apply it",
                key,
            )
        if not applied:
            return {}
        # Build the effective settings: the new values for applied keys only.
        raw_new = new.model_dump()
        effective_data = self.current.model_dump()
        for key in applied:
            _set_path(effective_data, key, _get_path(raw_new, key))
        effective = Settings.model_validate(effective_data)
        for key, (old, newv) in applied.items():
            self._log.warning("config change %s: %s -> %s", key, old, newv)
        self.current = effective
        for listener in self._listeners:
            try:
                listener(effective, applied)
            except Exception:
                self._log.exception("config listener failed for changes %s", sorted(applied))
        return applied

    def poll(self) -> dict[str, tuple[Any, Any]]:
        """Reloads if the file's modification time changed."""
        m = self._stat()
        if m == self._mtime:
            return {}
        self._mtime = m
        return self.reload()

    async def watch(self, interval_s: float = 1.0) -> None:
        """Polls the file until cancelled."""
        import asyncio

        while True:
            await asyncio.sleep(interval_s)
            self.poll()


_MISSING = object()


def _get_path(d: dict[str, Any], key: str) -> Any:
    node: Any = d
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _set_path(d: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = d
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    if value is _MISSING:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value
