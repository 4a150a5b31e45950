"""``kong-slo kong-conf``: diff output, --check exit codes, --write with backup and atomic replace, refusals."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kong_slo.cli import main
from kong_slo.commands import kong_conf

CONF = ("# Kong\r\n#tracing_instrumentations = off   # list\r\n#tracing_sampling_rate = 0.01     # rate\r\n"
        "pg_password = a\\#b")
PATCHED = ("# Kong\r\ntracing_instrumentations = all    # list\r\ntracing_sampling_rate = 1.0       # rate\r\n"
           "pg_password = a\\#b")


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = tmp_path / "kong.conf"
    path.write_bytes(CONF.encode())
    path.chmod(0o640)
    return path


def files_in(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


def test_default_prints_the_unified_diff_and_writes_nothing(conf: Path, capsysbinary: pytest.CaptureFixture) -> None:
    assert main(["kong-conf", str(conf)]) == 0
    out = capsysbinary.readouterr().out.decode()
    assert out.startswith(f"--- {conf}\n+++ {conf}\n")  # applies with `patch -p0`
    assert "-#tracing_instrumentations = off   # list\r\n" in out
    assert "+tracing_instrumentations = all    # list\r\n" in out
    assert "+tracing_sampling_rate = 1.0       # rate\r\n" in out
    assert " pg_password = a\\#b\n\\ No newline at end of file\n" in out  # context, untouched
    assert conf.read_bytes() == CONF.encode()
    assert files_in(conf.parent) == {"kong.conf"}


def test_check_exits_1_when_a_change_is_needed_and_0_once_applied(conf: Path,
                                                                   capsysbinary: pytest.CaptureFixture) -> None:
    assert main(["kong-conf", str(conf), "--check"]) == 1
    assert b"+tracing_sampling_rate = 1.0" in capsysbinary.readouterr().out
    assert conf.read_bytes() == CONF.encode()
    assert main(["kong-conf", str(conf), "--write"]) == 0
    assert main(["kong-conf", str(conf), "--check"]) == 0
    assert main(["kong-conf", str(conf), "--check", "--sampling-rate", "0.5"]) == 1


def test_write_replaces_atomically_keeps_backup_and_mode(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(source: str, target: str) -> None:
        replaced.append((str(source), str(target)))
        real_replace(source, target)

    monkeypatch.setattr(kong_conf.os, "replace", spy)
    assert main(["kong-conf", str(conf), "--write"]) == 0
    assert conf.read_bytes() == PATCHED.encode()
    backup = conf.with_name("kong.conf.bak")
    assert backup.read_bytes() == CONF.encode()
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640
    assert stat.S_IMODE(backup.stat().st_mode) == 0o640
    assert [Path(target).name for _, target in replaced] == ["kong.conf.bak", "kong.conf"]
    assert all(Path(source).parent == conf.parent for source, _ in replaced), "temporary files sit beside PATH"
    assert files_in(conf.parent) == {"kong.conf", "kong.conf.bak"}


def test_write_on_a_compliant_file_touches_nothing(conf: Path) -> None:
    conf.write_bytes(PATCHED.encode())
    before = conf.stat().st_mtime_ns
    assert main(["kong-conf", str(conf), "--write"]) == 0
    assert conf.stat().st_mtime_ns == before
    assert files_in(conf.parent) == {"kong.conf"}


def test_options_choose_names_and_values(conf: Path, capsysbinary: pytest.CaptureFixture) -> None:
    conf.write_bytes(b"#opentelemetry_tracing = off\n#log_level = notice\n")
    args = ["kong-conf", str(conf), "--kong-version", "3.1", "--instrumentations", "request, db_query",
            "--sampling-rate", "0.25", "--log-level", "debug"]
    assert main(args) == 0
    out = capsysbinary.readouterr().out.decode()
    assert "+opentelemetry_tracing = request,db_query\n" in out
    assert "+log_level = debug\n" in out
    assert "+opentelemetry_tracing_sampling_rate = 0.25\n" in out  # no commented default: appended block


def test_missing_final_newline_is_marked_in_the_diff(conf: Path, capsysbinary: pytest.CaptureFixture) -> None:
    conf.write_bytes(b"a = 1")
    assert main(["kong-conf", str(conf)]) == 0
    assert b"-a = 1\n\\ No newline at end of file\n+a = 1\n" in capsysbinary.readouterr().out


def test_non_utf8_bytes_pass_through_untouched(conf: Path) -> None:
    conf.write_bytes(b"pg_password = \xff\xfe\n#tracing_sampling_rate = 0.01\n")
    assert main(["kong-conf", str(conf), "--write"]) == 0
    assert conf.read_bytes().startswith(b"pg_password = \xff\xfe\ntracing_sampling_rate = 1.0\n")


@pytest.mark.parametrize("flag", [[], ["--write"], ["--check"]])
def test_unreadable_file_is_refused_with_its_line_and_nothing_written(
        conf: Path, flag: list[str], capsys: pytest.CaptureFixture) -> None:
    conf.write_bytes(b"a = 1\n[http]\n")
    assert main(["kong-conf", str(conf), *flag]) == 2
    err = capsys.readouterr().err
    assert f"{conf}:2:" in err and "section" in err
    assert conf.read_bytes() == b"a = 1\n[http]\n"
    assert files_in(conf.parent) == {"kong.conf"}


@pytest.mark.parametrize(("args", "fragment"), [
    (["--sampling-rate", "2"], "between 0 and 1"),
    (["--sampling-rate", "lots"], "--sampling-rate: 'lots' is not a number"),
    (["--instrumentations", "off,all"], "'off' must stand alone"),
    (["--instrumentations", "off"], "--instrumentations 'off' switches Kong's tracing off, so no request would be "
                                    "counted"),
    (["--instrumentations", " off "], "switches Kong's tracing off"),
    (["--instrumentations", "db_query,router"], "gives requests no root span"),
    (["--log-level", "verbose"], "log level 'verbose'"),
    (["--kong-version", "three"], "--kong-version"),
    (["--kong-version", "2.8"], "Kong 2.8 has no tracing settings"),
])
def test_bad_options_exit_2_before_reading(conf: Path, capsys: pytest.CaptureFixture, args: list[str],
                                           fragment: str) -> None:
    assert main(["kong-conf", str(conf), "--write", *args]) == 2
    assert fragment in capsys.readouterr().err
    assert conf.read_bytes() == CONF.encode()


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["kong-conf", str(tmp_path / "absent.conf")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_write_and_check_are_exclusive(conf: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["kong-conf", str(conf), "--write", "--check"])
    assert caught.value.code == 2


@pytest.mark.parametrize("flag", [[], ["--write"], ["--check"]])
def test_what_is_not_a_regular_file_is_refused(tmp_path: Path, flag: list[str], capsys: pytest.CaptureFixture) -> None:
    fifo = tmp_path / "kong.conf"
    os.mkfifo(fifo)  # reading it would block: the check comes first
    assert main(["kong-conf", str(fifo), *flag]) == 2
    assert f"{fifo} is not a regular file" in capsys.readouterr().err
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert main(["kong-conf", str(tmp_path), *flag]) == 2
    assert f"{tmp_path} is not a regular file" in capsys.readouterr().err


def test_a_device_node_is_never_replaced(capsys: pytest.CaptureFixture) -> None:
    assert main(["kong-conf", "/dev/null", "--write"]) == 2
    assert "/dev/null is not a regular file" in capsys.readouterr().err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_binary_file_is_refused_with_the_line_of_its_first_nul(conf: Path, capsys: pytest.CaptureFixture) -> None:
    elf = b"\x7fELF\x02\x01\x01\x00\x00\x00\n" + bytes(range(1, 256))
    conf.write_bytes(elf)
    assert main(["kong-conf", str(conf), "--write"]) == 2
    assert f"{conf}:1: a NUL byte; this is not a text file" in capsys.readouterr().err
    assert conf.read_bytes() == elf
    assert files_in(conf.parent) == {"kong.conf"}


def test_write_without_permission_says_so_and_leaves_the_file(conf: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture) -> None:
    def denied(*, dir: str, prefix: str, suffix: str) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied", dir)

    monkeypatch.setattr(kong_conf.tempfile, "mkstemp", denied)
    assert main(["kong-conf", str(conf), "--write"]) == 2
    err = capsys.readouterr().err
    assert err == (f"kong-slo kong-conf: cannot write {conf.parent}: Permission denied; run it with sudo; "
                   f"{conf} is unchanged\n")
    assert conf.read_bytes() == CONF.encode()
