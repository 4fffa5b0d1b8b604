"""No secret from the configuration reaches any log output, at any level, by any path:
the Python handler, the direct logger, the console and the file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import BaseModel, SecretStr

from arbhybrid import _native, telemetry
from arbhybrid.config import load_config

REPO = Path(__file__).resolve().parents[1]
LEVELS = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL]


def restore_defaults() -> None:
    root = logging.getLogger()
    for h in [h for h in root.handlers if isinstance(h, telemetry.RingHandler)]:
        root.removeHandler(h)
    root.setLevel(logging.WARNING)
    _native.configure_logging(json.dumps({"level": "INFO"}))


def secrets_env(tag: str) -> dict[str, str]:
    return {
        "MEXC_API_KEY": f"mx0vgl{tag}KEYa1b2c3d4e5",
        "MEXC_API_SECRET": f"9f8e7d6c{tag}SECRETb5a4f3e2d1",
        "GATEIO_API_KEY": f"gatekey{tag}0123456789ab",
        "GATEIO_API_SECRET": f"gatesecret{tag}fedcba9876543210",
    }


def log_config_everywhere(settings: object, exchange: object) -> None:
    """Logs the configuration by every route a developer might use, at every level."""
    log = logging.getLogger("arbhybrid.test.secrets")
    hot = telemetry.get_logger("arbhybrid.test.secrets.hot")
    for level in LEVELS:
        log.log(level, "settings %s", settings)
        log.log(level, "settings %r", settings)
        log.log(level, f"exchange {exchange}")
        log.log(level, "dump %s", settings.model_dump())  # type: ignore[attr-defined]
        log.log(level, "masked %s", settings.masked())  # type: ignore[attr-defined]
        log.log(level, "extra", extra={"exchange": exchange, "key": exchange.api_key})  # type: ignore[attr-defined]
        try:
            raise ValueError(f"bad config {exchange!r}")
        except ValueError:
            log.log(level, "with traceback", exc_info=True)
        hot.log(level, f"hot {settings}", exchange=exchange, secret=exchange.api_secret)  # type: ignore[attr-defined]


def test_config_objects_logged_at_every_level_leave_no_secret(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    env = secrets_env("A")
    settings = load_config(REPO / "config.yaml", environ=env)
    assert settings.exchanges.mexc.api_secret.get_secret_value() == env["MEXC_API_SECRET"]
    path = tmp_path / "secrets.jsonl"
    # Deliberately NOT registering the secrets: this shows the objects mask themselves.
    _native.configure_logging(
        json.dumps({"level": "DEBUG", "console": True, "file": str(path), "overflow": "block"})
    )
    root = logging.getLogger()
    handler = telemetry.RingHandler()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        log_config_everywhere(settings, settings.exchanges.mexc)
        _native.flush_logging()
        out, err = capfd.readouterr()
        file_text = path.read_text()
    finally:
        root.removeHandler(handler)
        restore_defaults()
    assert file_text.count('"target":"arbhybrid.test.secrets') == len(LEVELS) * 8
    assert err.count(" arbhybrid.test.secrets") == len(LEVELS) * 8
    assert "**********" in file_text and "**********" in err
    for value in env.values():
        for text in (file_text, err, out):
            assert value not in text


def test_registered_secrets_are_scrubbed_even_from_a_raw_leak(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    env = secrets_env("B")
    settings = load_config(REPO / "config.yaml", environ=env)
    path = tmp_path / "scrub.jsonl"
    s = settings.model_copy(
        update={
            "logging": settings.logging.model_copy(
                update={"file": str(path), "console": True, "level": "DEBUG"}
            ),
            "metrics": settings.metrics.model_copy(update={"enabled": False}),
        }
    )
    try:
        assert telemetry.register_secrets(s) == 4
        telemetry.setup(s)
        mexc = s.exchanges.mexc
        leaked = mexc.api_secret.get_secret_value()
        for level in LEVELS:
            # A bug that unwraps the secret: the writer still masks it.
            logging.getLogger("arbhybrid.test.leak").log(level, f"signing with {leaked}")
            telemetry.get_logger("arbhybrid.test.leak").log(level, "raw", secret=leaked)
        _native.flush_logging()
        out, err = capfd.readouterr()
        file_text = path.read_text()
    finally:
        restore_defaults()
    assert file_text.count("signing with **********") == len(LEVELS)
    for value in env.values():
        for text in (file_text, err, out):
            assert value not in text


class _Creds(BaseModel):
    """A stand-in with the same masking contract, independent of config.py's schema."""

    api_key: SecretStr
    label: str = "test"


def test_a_plain_secretstr_model_is_masked_too(tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl"
    _native.configure_logging(
        json.dumps({"level": "DEBUG", "console": False, "file": str(path), "overflow": "block"})
    )
    try:
        creds = _Creds(api_key=SecretStr("plainSECRETvalue0042xyz"))
        hot = telemetry.get_logger("arbhybrid.test.plain")
        for level in LEVELS:
            hot.log(level, f"{creds} {creds!r}", creds=creds)
        _native.flush_logging()
        text = path.read_text()
    finally:
        restore_defaults()
    assert text.count('"target":"arbhybrid.test.plain"') == len(LEVELS)
    assert "plainSECRETvalue0042xyz" not in text
