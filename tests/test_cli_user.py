"""What a new user trips over (issue 14): each check runs ``python -m arbhybrid`` as a
subprocess from a scratch directory, with ``--config`` pointing at a checkout's
``config.yaml`` (a copy of this worktree's, so the state it writes stays in tmp)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def user_env() -> dict[str, str]:
    """The environment of a user who set nothing: no ARB_ overrides from the test run."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ARB")}


def cli(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "arbhybrid", *args],
        cwd=cwd,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start(cwd: Path, config: Path, *args: str) -> subprocess.Popen[str]:
    """The main job in the background, as a user starts it (``args``: run's options)."""
    return subprocess.Popen(
        [sys.executable, "-m", "arbhybrid", "run", "--config", str(config), *args],
        cwd=cwd,
        env=user_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_running(proc: subprocess.Popen[str], config: Path) -> None:
    """Until the engine ``proc`` runs has written its ``engine.json`` (status can ask it)."""
    state = config.parent / "runs" / "engine.json"
    deadline = time.monotonic() + 60
    while not state.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "engine.json did not appear"
        time.sleep(0.2)


def checkout(root: Path) -> Path:
    """A checkout's configuration (this worktree's config.yaml) in its own folder."""
    folder = root / "checkout"
    folder.mkdir()
    shutil.copy(REPO / "config.yaml", folder / "config.yaml")
    return folder / "config.yaml"


def journal_of(out: str) -> str:
    """The journal a run printed (``journal: PATH``)."""
    m = re.search(r"^journal: (.+)$", out, re.M)
    assert m, out
    return m.group(1)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Two short runs, one after the other, from a scratch directory."""
    root = tmp_path_factory.mktemp("user")
    config = checkout(root)
    scratch = root / "scratch"
    scratch.mkdir()
    runs = []
    for _ in range(2):
        # 4 s: the first gap opens about 3 s into the session, so each run trades.
        r = cli(scratch, "run", "--config", str(config), "--duration", "4")
        assert r.returncode == 0, r.stdout + r.stderr
        runs.append(r)
        time.sleep(1.1)  # the session journals are named by the second they start
    return {"config": config, "scratch": scratch, "runs": runs}


def test_history_and_report_read_every_run(two_runs: dict[str, object]) -> None:
    """Item 1: after two runs, history and report read both runs' journals, and label
    what they show with its run; --run picks one."""
    config, scratch = str(two_runs["config"]), two_runs["scratch"]
    assert isinstance(scratch, Path)
    names = [Path(journal_of(r.stdout)).stem for r in two_runs["runs"]]  # type: ignore[attr-defined]
    hist = cli(scratch, "history", "--config", config)
    assert hist.returncode == 0, hist.stderr
    for name in names:
        assert name in hist.stdout, hist.stdout
    one = cli(scratch, "history", "--config", config, "--run", names[0])
    assert one.returncode == 0, one.stderr
    assert names[0] in one.stdout and names[1] not in one.stdout, one.stdout
    rep = cli(scratch, "report", "--config", config, "--out", "report")
    assert rep.returncode == 0, rep.stderr
    page = (scratch / "report" / "report.html").read_text()
    for name in names:
        assert name in page


def test_a_journal_file_alone_holds_the_run(two_runs: dict[str, object], tmp_path: Path) -> None:
    """Item 2: after the engine exits, journal.sqlite alone (no -wal) has every table."""
    run = two_runs["runs"][0]  # type: ignore[index]
    path = Path(journal_of(run.stdout))
    if not path.is_absolute():
        path = Path(str(two_runs["scratch"])) / path
    copy = tmp_path / "copy.sqlite"
    shutil.copy(path, copy)  # the obvious thing: the file, not its -wal
    with sqlite3.connect(copy) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert {"transactions", "orders", "fills", "opportunities"} <= tables
        n = conn.execute("SELECT COUNT(*) FROM transactions").fetchone()[0]
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT COUNT(*) FROM transactions").fetchone()[0] == n


def test_a_journal_file_alone_holds_the_run_after_the_python_api_stops(tmp_path: Path) -> None:
    """Item 2, from Python: after ``RunningEngine.shutdown()`` (the engine, and so its
    journal, still open) the journal file alone holds the run."""
    journal = tmp_path / "drive.sqlite"
    r = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "drive_engine.py"),
            *("--seconds", "2", "--config", str(checkout(tmp_path)), "--journal", str(journal)),
        ],
        cwd=tmp_path,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    copy = tmp_path / "copy.sqlite"
    shutil.copy(journal, copy)
    with sqlite3.connect(copy) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"meta", "transactions", "orders", "fills"} <= tables, tables


def test_paths_resolve_against_the_configuration(two_runs: dict[str, object]) -> None:
    """Item 6: ``run --config /abs/config.yaml`` from elsewhere keeps its state beside the
    configuration, not in the current directory."""
    config, scratch = two_runs["config"], two_runs["scratch"]
    assert isinstance(config, Path) and isinstance(scratch, Path)
    assert not (scratch / "runs").exists()
    assert (config.parent / "runs" / "journal.sqlite").exists()
    assert (config.parent / "runs" / "arbhybrid.log").exists()
    for r in two_runs["runs"]:  # type: ignore[attr-defined]
        assert Path(journal_of(r.stdout)).parent.parent == config.parent / "runs"


def test_the_report_goes_to_the_state_directory(two_runs: dict[str, object]) -> None:
    """Item 6, for ``report``: without ``--out`` the report is written beside the
    configuration's journals, not into a ``runs/`` of the current directory."""
    config, scratch = two_runs["config"], two_runs["scratch"]
    assert isinstance(config, Path) and isinstance(scratch, Path)
    r = cli(scratch, "report", "--config", str(config))
    assert r.returncode == 0, r.stdout + r.stderr
    page = config.parent / "runs" / "report" / "report.html"
    assert r.stdout.splitlines()[0] == str(page), r.stdout
    assert page.is_file()
    assert not (scratch / "runs").exists()


def test_without_a_configuration_the_error_says_how_to_give_one(tmp_path: Path) -> None:
    """Item 6: no config.yaml here: the error names --config."""
    for command in (["run"], ["history"], ["status"]):
        r = cli(tmp_path, *command)
        assert r.returncode in (1, 2), r.stdout + r.stderr
        assert "--config" in r.stderr, (command, r.stderr)
        assert "Traceback" not in r.stderr


def test_a_second_engine_on_the_same_state_is_refused(tmp_path: Path) -> None:
    """Item 3: a second engine on the same state directory is refused with a message
    naming the running one; status lists the running one before and after."""
    config = checkout(tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    first = start(scratch, config, "--duration", "60")
    try:
        wait_until_running(first, config)
        second = cli(scratch, "run", "--config", str(config), "--duration", "3")
        assert second.returncode == 2, second.stdout + second.stderr
        assert f"pid {first.pid}" in second.stderr, second.stderr
        status = cli(scratch, "status", "--config", str(config), "--json")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["pid"] == first.pid
        listing = cli(scratch, "status", "--config", str(config))
        assert listing.returncode == 0, listing.stderr
        assert f"pid {first.pid}" in listing.stdout
    finally:
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, out + err


@pytest.mark.parametrize("value", ["-5", "0", "nan", "inf"])
def test_duration_must_be_positive_and_finite(tmp_path: Path, value: str) -> None:
    """Item 4: a non-positive or non-finite --duration is a usage error before anything
    starts."""
    config = checkout(tmp_path)
    r = cli(tmp_path, "run", "--config", str(config), f"--duration={value}", timeout=60)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "--duration" in r.stderr
    assert not (config.parent / "runs").exists()
    assert not (tmp_path / "runs").exists()


def test_status_accepts_the_state_directory(tmp_path: Path) -> None:
    """Item 5: ``status --state DIR`` (the README calls it a directory) is accepted."""
    (tmp_path / "runs").mkdir()
    r = cli(tmp_path, "status", "--state", "runs")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert "no engine running" in r.stderr
    assert "runs" in r.stderr


def test_a_mistyped_command_names_the_commands(tmp_path: Path) -> None:
    """Item 7: ``stauts`` is an unknown command: say so, offer the closest, list them."""
    r = cli(tmp_path, "stauts")
    assert r.returncode == 2
    assert "unknown command 'stauts'" in r.stderr, r.stderr
    assert "did you mean 'status'" in r.stderr
    for name in ("run", "sim", "config", "report", "history", "status", "campaign"):
        assert name in r.stderr


@pytest.mark.parametrize(
    ("args", "command", "closest"),
    [
        (["run", "--durration", "5"], "run", "--duration"),
        (["--durration", "5"], "run", "--duration"),  # run is the default command
        (["history", "--symbl", "BTC/USDT"], "history", "--symbol"),
    ],
)
def test_a_mistyped_option_names_its_command_and_the_closest(
    tmp_path: Path, args: list[str], command: str, closest: str
) -> None:
    """Item 7, for options: the error is under the command's own usage line (the options
    it takes) and offers the closest option."""
    r = cli(tmp_path, *args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"usage: python -m arbhybrid {command} " in r.stderr, r.stderr
    assert f"unrecognized arguments: {args[-2]}" in r.stderr, r.stderr
    assert f"did you mean {closest!r}" in r.stderr, r.stderr


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_campaign_minutes_must_be_positive_and_finite(tmp_path: Path, value: str) -> None:
    """Item 4, for the campaign: its length is a usage error too when it is not a positive,
    finite number, before anything starts."""
    r = cli(tmp_path, "campaign", f"--minutes={value}", "--workdir", "work", timeout=30)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "--minutes" in r.stderr, r.stderr
    assert not (tmp_path / "work").exists()


def test_a_campaign_keeps_its_workdir_where_it_is_run(tmp_path: Path) -> None:
    """Item 6, for the campaign: a relative ``--workdir`` is this directory's, for the
    campaign and for the engines it starts in the checkout alike."""
    args = ("--minutes", "0.02", "--kills", "0", "--symbols", "1", "--workdir", "work")
    r = cli(tmp_path, "campaign", *args, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "NOTHING LOST, NOTHING DUPLICATED" in r.stdout, r.stdout
    assert (tmp_path / "work" / "engine.log").is_file()
    assert not (REPO / "work").exists()


def test_a_dry_run_says_it_sent_nothing(tmp_path: Path) -> None:
    """Item 9: a dry run's status line and summary say it was a dry run."""
    config = checkout(tmp_path)
    r = cli(tmp_path, "run", "--config", str(config), "--dry-run", "--duration", "3")
    assert r.returncode == 0, r.stdout + r.stderr
    status_lines = [line for line in r.stdout.splitlines() if line.startswith("[")]
    assert status_lines, r.stdout
    assert all("dry run" in line for line in status_lines), status_lines
    summary = r.stdout[r.stdout.index("arbhybrid summary") :]
    assert "detected, not sent: dry run" in summary, summary
    assert "taken" not in summary, summary


def test_a_dry_runs_status_says_it_is_a_dry_run(tmp_path: Path) -> None:
    """Item 9, from another shell: ``status`` of a dry run says so in its status line
    (the dashboard's header), not "trading"."""
    config = checkout(tmp_path)
    proc = start(tmp_path, config, "--dry-run")
    try:
        wait_until_running(proc, config)
        r = cli(tmp_path, "status", "--config", str(config))
        assert r.returncode == 0, r.stdout + r.stderr
        header = next(line for line in r.stdout.splitlines() if " up " in line)
        assert "dry run" in header.lower() and "trading" not in header, header
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err


def test_rough_edges(two_runs: dict[str, object], tmp_path: Path) -> None:
    """Item 10: errors name the right option and file; unknown filter values list the
    values that exist."""
    config, scratch = str(two_runs["config"]), two_runs["scratch"]
    assert isinstance(scratch, Path)
    r = cli(scratch, "history", "--config", config, "--until", "garbage")
    assert r.returncode == 2
    error = r.stderr.strip().splitlines()[-1]
    assert "--until" in error and "'garbage'" in error and "--since" not in error, error

    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a journal\n" * 100)
    for command in (["history"], ["report", "--out", str(tmp_path / "rep")]):
        r = cli(scratch, *command, "--journal", str(bogus))
        assert r.returncode == 1, r.stdout + r.stderr
        assert "Traceback" not in r.stderr
        assert str(bogus) in r.stderr and "not a journal" in r.stderr, r.stderr

    for option, value, known in (
        ("--outcome", "complete", "completed"),
        ("--symbol", "BTCUSDT", "BTC/USDT"),
    ):
        r = cli(scratch, "history", "--config", config, option, value)
        assert r.returncode == 2, r.stdout + r.stderr
        assert f"{option} {value!r}" in r.stderr and known in r.stderr, r.stderr

    # A session that died before its journal had tables is named and left out.
    broken = Path(config).parent / "runs" / "sim" / "20000101-000000-1.sqlite"
    broken.write_bytes(b"")
    try:
        r = cli(scratch, "history", "--config", config)
    finally:
        broken.unlink()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "skipped run sim/20000101-000000-1" in r.stderr and "not a journal" in r.stderr


def test_history_limit(two_runs: dict[str, object]) -> None:
    """Item 10: ``--limit`` is a positive whole number (-1 showed all but one row, 0
    nothing), and the count of rows shown per run is of the rows shown."""
    config, scratch = str(two_runs["config"]), two_runs["scratch"]
    assert isinstance(scratch, Path)
    for value in ("0", "-1"):
        r = cli(scratch, "history", "--config", config, "--limit", value)
        assert r.returncode == 2, r.stdout + r.stderr
        assert "--limit" in r.stderr and f"{value!r}" in r.stderr, r.stderr
    every = cli(scratch, "history", "--config", config)
    assert every.returncode == 0, every.stderr
    assert int(every.stdout.split()[0]) >= 2, every.stdout  # each run traded
    one = cli(scratch, "history", "--config", config, "--limit", "1")
    assert one.returncode == 0, one.stderr
    assert one.stdout.split()[0] == "1", one.stdout
    listed = one.stdout[one.stdout.index("runs read (transactions shown):") :]
    shown = [int(n) for n in re.findall(r"\((\d+)", listed)]
    assert sorted(shown) == [0, 1], listed


@pytest.mark.parametrize("delay_s", [0.1, 0.3, 0.8])
def test_ctrl_c_early_prints_no_traceback(tmp_path: Path, delay_s: float) -> None:
    """Item 10: Ctrl-C in the first fraction of a second stops quietly: no traceback
    through our code (one inside the interpreter's own start-up, site or runpy, is before
    any of it can run)."""
    config = checkout(tmp_path)
    proc = start(tmp_path, config, "--duration", "30")
    time.sleep(delay_s)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    traceback = err[err.find("Traceback") :] if "Traceback" in err else ""
    assert "arbhybrid" not in traceback, err
    assert proc.returncode in (0, 130, 1, -signal.SIGINT), (proc.returncode, out, err)
