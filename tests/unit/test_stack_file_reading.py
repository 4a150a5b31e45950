"""Stack files read as users write them: encodings, YAML 1.1 surprises, duplicate keys, misspelled namespaces,
file names and folders. Every mistake is one line naming the file or key, exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from kong_slo.cli import main
from kong_slo.errors import SettingsError
from kong_slo.settings import load_stack_file
from kong_slo.settings.stack_yaml import MAX_FILE_BYTES

LOCAL = """\
config:
  kong-slo:target: local
  kong-slo:kong:
    version: "3.9"
  kong-slo:apis:
    - name: Orders
"""


def problems(path: Path) -> tuple[str, ...]:
    with pytest.raises(SettingsError) as caught:
        load_stack_file(path)
    return caught.value.problems


def write(tmp_path: Path, text: str, name: str = "Pulumi.test.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def validate(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["validate", *argv])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


# -- encodings -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_unicode_with_a_byte_order_mark_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "Pulumi.bom.yaml"
    path.write_bytes(LOCAL.replace("Orders", "Bestellungen-ä").encode(encoding))
    # Kong takes UTF-8 names (typedefs.utf8_name): the umlaut reads back as written.
    assert load_stack_file(path).apis[0].name == "Bestellungen-ä"
    path.write_bytes(LOCAL.encode(encoding))
    assert load_stack_file(path).apis[0].name == "Orders"


@pytest.mark.parametrize(("content", "expected"), [
    (LOCAL.replace("Orders", "Caf\u00e9").encode("latin-1"),
     "line 6: byte 0xe9 is not UTF-8 text; save the file as UTF-8"),
    (LOCAL.encode("utf-16-le"), "a NUL character; this is not a text file"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)), "is not UTF-8 text"),
])
@pytest.mark.parametrize("command", ["validate", "render", "status"])
def test_a_file_that_is_not_utf8_text_is_bad_input_naming_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str, command: str) -> None:
    path = tmp_path / "Pulumi.bin.yaml"
    path.write_bytes(content)
    extra = ["--out", str(tmp_path / "out")] if command == "render" else []
    assert main([command, "--config-file", str(path), *extra]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err and expected in err
    assert "Traceback" not in err and "Error:" not in err


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.huge.yaml"
    with path.open("w") as stream:
        stream.write("config:\n  kong-slo:apis:\n")
        stream.write("    - name: A\n" * (MAX_FILE_BYTES // 12 + 1))
    (line,) = problems(path)
    assert line == f"{path}: larger than 2 MiB; that is not a stack file"


# -- YAML 1.1 surprises ----------------------------------------------------------------------------------------

def test_an_unquoted_kong_version_310_says_what_yaml_did(tmp_path: Path) -> None:
    (line,) = problems(write(tmp_path, LOCAL.replace('"3.9"', "3.10")))
    assert line == ("kong-slo:kong.version: is meant as text, but YAML 1.1 reads the unquoted 3.10 as the number "
                    "3.1; write it in quotes ('3.10') to keep it as written")
    assert load_stack_file(write(tmp_path, LOCAL.replace('"3.9"', "3.9"))).kong.version is not None


@pytest.mark.parametrize(("written", "reading"), [
    ("NO", "the boolean false"),
    ("On", "the boolean true"),
    ("0x1F", "the number 31"),
    ("1_000", "the number 1000"),
])
def test_a_name_yaml_reads_as_a_boolean_or_number_names_the_quoting(tmp_path: Path, written: str,
                                                                     reading: str) -> None:
    (line,) = problems(write(tmp_path, LOCAL.replace("name: Orders", f"name: {written}")))
    assert line == (f"kong-slo:apis[0].name: is meant as text, but YAML 1.1 reads the unquoted {written} as "
                    f"{reading}; write it in quotes ('{written}') to keep it as written")
    quoted = load_stack_file(write(tmp_path, LOCAL.replace("name: Orders", f"name: '{written}'")))
    assert quoted.apis[0].name == written


def test_a_number_problem_on_a_surprising_scalar_carries_the_hint(tmp_path: Path) -> None:
    text = LOCAL.replace("- name: Orders", "- name: Orders\n      latency: {target: 99, warning: 1:30}")
    (line,) = problems(write(tmp_path, text))
    assert line.startswith("kong-slo:apis[0].latency.warning: 90 must be greater than the target 99")
    assert line.endswith("(YAML 1.1 reads the unquoted 1:30 as the number 90; write it in quotes ('1:30') to "
                         "keep it as written)")


def test_plain_numbers_and_booleans_stay_quiet(tmp_path: Path) -> None:
    text = LOCAL.replace("- name: Orders", "- name: 404\n      latency: {thresholdMs: 400, target: 99.0}\n"
                                           "      availability: {failOn: [500, 5xx]}")
    settings = load_stack_file(write(tmp_path, text.replace('version: "3.9"', "version: 3.9\n    exportLogs: true")))
    assert settings.apis[0].name == "404"


# -- duplicate keys and namespaces --------------------------------------------------------------------------

def test_duplicate_keys_are_reported_with_both_lines(tmp_path: Path) -> None:
    text = LOCAL + "  kong-slo:apis:\n    - name: Payments\n  kong-slo:kong:\n    version: '3.8'\n    version: '3.7'\n"
    lines = problems(write(tmp_path, text))
    assert lines == (
        "config.kong-slo:apis: line 7: duplicate key, already set on line 5; YAML would silently keep only the last "
        "one, so merge them",
        "config.kong-slo:kong: line 9: duplicate key, already set on line 3; YAML would silently keep only the last "
        "one, so merge them",
        "kong-slo:kong.version: line 11: duplicate key, already set on line 10; YAML would silently keep only the "
        "last one, so merge them",
    )


def test_duplicate_keys_inside_a_section_name_the_key_path(tmp_path: Path) -> None:
    text = LOCAL.replace("- name: Orders", "- name: Orders\n      latency: {target: 99}\n      latency: {target: 98}")
    (line,) = problems(write(tmp_path, text))
    assert line.startswith("kong-slo:apis[0].latency: line 8: duplicate key, already set on line 7")


@pytest.mark.parametrize(("key", "suggestion"), [
    ("kong_slo:apis", "kong-slo:apis"),
    ("kongslo:apis", "kong-slo:apis"),
    ("Kong-Slo:apis", "kong-slo:apis"),
    ("kong-sol:apis", "kong-slo:apis"),
    ("kong-slo.apis", "kong-slo:apis"),
    ("apis", "kong-slo:apis"),
])
def test_a_misspelled_namespace_is_an_error_with_did_you_mean(tmp_path: Path, key: str, suggestion: str) -> None:
    text = LOCAL + f"  {key}:\n    - name: Payments\n"
    (line,) = problems(write(tmp_path, text))
    assert line == (f"{key}: line 8: not in the kong-slo namespace, so it would be ignored; "
                    f"did you mean '{suggestion}'?")


def test_other_namespaces_are_left_alone(tmp_path: Path) -> None:
    text = LOCAL + "  aws:region: eu-west-1\n  docker:host: unix:///var/run/docker.sock\n  myteam:owner: sre\n"
    assert load_stack_file(write(tmp_path, text)).aws_region == "eu-west-1"


def test_file_problems_and_settings_problems_are_reported_together(tmp_path: Path) -> None:
    text = LOCAL.replace("name: Orders", "name: NO") + "  kong_slo:apis: []\n"
    lines = problems(write(tmp_path, text))
    assert [line.split(":")[0] + ":" + line.split(":")[1] for line in lines] == [
        "kong_slo:apis", "kong-slo:apis[0].name"]


# -- one message per mistake ------------------------------------------------------------------------------------

def test_an_invalid_admin_url_is_one_message(tmp_path: Path) -> None:
    text = ("config:\n  aws:region: eu-west-1\n  kong-slo:target: aws\n"
            "  kong-slo:collector: {allowedCidrs: [10.0.0.0/16]}\n  kong-slo:kong: {adminUrl: kong.internal:8001}\n"
            "  kong-slo:dynatrace:\n    environmentUrl: https://abc12345.live.dynatrace.com\n"
            "    apiToken: {secure: v1:x}\n  kong-slo:apis: [{name: A}]\n")
    assert problems(write(tmp_path, text)) == (
        "kong-slo:kong.adminUrl: 'kong.internal:8001' is not an http(s) URL with a host",)


# -- naming the file and the stack ------------------------------------------------------------------------------

def test_config_file_takes_any_name_and_the_stack_from_it_or_from_stack(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, LOCAL, name="orders-team.yml")
    assert validate("--config-file", str(path), capsys=capsys) == (0, f"{path}: ok: target local, 1 API(s), "
                                                                      "2 objective(s)\n")
    assert load_stack_file(path).stack == "orders-team"
    assert load_stack_file(path, "staging").stack == "staging"
    assert main(["render", "--config-file", str(path), "--stack", "staging", "--out", str(tmp_path / "o")]) == 0
    assert "stack staging" in capsys.readouterr().out


def test_a_file_name_that_is_no_stack_name_asks_for_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, LOCAL, name="my stack.yaml")
    code, output = validate("--config-file", str(path), capsys=capsys)
    assert code == 2
    assert "cannot tell the stack's name from the file name; give it with --stack NAME" in output
    assert validate("--config-file", str(path), "--stack", "mine", capsys=capsys)[0] == 0


@pytest.mark.parametrize("stack", ["", "../dev", "a b", "x" * 101])
def test_a_stack_that_is_no_stack_name_is_bad_input(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = validate("--stack", stack, capsys=capsys)
    assert code == 2
    assert f"--stack {stack!r} is not a stack name" in output


def test_the_stack_folder_is_found_from_a_subfolder(root: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(root / "kong_slo" / "settings")
    code, output = validate("--stack", "local", capsys=capsys)
    assert code == 0, output
    assert output.startswith(f"{root / 'stacks' / 'Pulumi.local.yaml'}: ok: target local")


def test_the_stack_folder_follows_stack_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: kong-slo\nruntime: python\nstackConfigDir: config/stacks\n")
    (tmp_path / "config" / "stacks").mkdir(parents=True)
    write(tmp_path / "config" / "stacks", LOCAL, name="Pulumi.local.yaml")
    monkeypatch.chdir(tmp_path / "config")
    assert validate(capsys=capsys) == (0, "stacks/Pulumi.local.yaml: ok: target local, 1 API(s), 2 objective(s)\n")


def test_help_names_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["validate", "--help"], ["status", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        out = capsys.readouterr().out
        assert "exit codes:" in out
        assert "2  bad input" in out and "3  a server the command reads (Dynatrace, for status) could not" in out



def test_aliases_that_expand_to_billions_are_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]" for level in range(1, 10)]
    path = write(tmp_path, "\n".join(lines) + "\nconfig:\n  kong-slo:apis: *a9\n")
    (line,) = problems(path)
    assert line == f"{path}: its aliases expand to more than 1,000,000 values; that is not a stack file"


def test_a_file_nested_too_deeply_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "config:\n  kong-slo:apis: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert problems(path) == (f"{path}: nested too deeply to be a stack file",)


def test_a_repeated_key_is_checked_as_yaml_keeps_it_the_last(tmp_path: Path) -> None:
    text = LOCAL + "  kong-slo:apis:\n    - name: NO\n"
    lines = problems(write(tmp_path, text))
    assert lines[0].startswith("config.kong-slo:apis: line 7: duplicate key")
    assert lines[1].startswith("kong-slo:apis[0].name: is meant as text, but YAML 1.1 reads the unquoted NO")
