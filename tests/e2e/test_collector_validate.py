"""`otelcol validate` (the real collector's own config check) accepts every config `kong-slo render` produces."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from kong_slo.collector.render import render_collector_config
from kong_slo.settings import load_stack_file
from tests.conftest import STACKS
from tests.e2e.collector import localise, validate
from tests.unit.settings_helpers import aws_config, parse

STACK_FILES = STACKS


def _variants() -> list[tuple[str, dict]]:
    variants = []
    for distribution, sampling, grpc, logs, dynatrace in itertools.product(
            ("dynatrace", "contrib"), (1.0, 0.1), (False, True), (False, True), (True, False)):
        config = aws_config(collector={"allowedCidrs": ["10.0.0.0/16"], "distribution": distribution,
                                       "traceSampling": sampling, "openGrpc": grpc},
                            kong={"adminUrl": "http://kong.internal:8001", "exportLogs": logs, "version": "3.9"})
        if not dynatrace:
            config = {**config, "target": "local", "collector": {**config["collector"], "allowedCidrs": []},
                      "kong": {"exportLogs": logs, "version": "3.9"}}
            config.pop("dynatrace")
        name = f"{distribution}-sampling{sampling}-grpc{grpc}-logs{logs}-{'dynatrace' if dynatrace else 'debug'}"
        variants.append((name, config))
    return variants


def _check(config_text: str, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("dt0c01.E2E.TOKEN")
    config_path = tmp_path / "config.yaml"
    config_path.write_text(localise(config_text, ports={"http": 14318, "grpc": 14317, "health": 14133},
                                    storage=tmp_path, dynatrace_url=None, token_file=token_file))
    result = validate(config_path)
    assert result.returncode == 0, f"otelcol validate refused the rendered config:\n{result.stderr}"


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda path: path.name)
def test_every_stack_renders_a_config_the_collector_accepts(stack_file: Path, tmp_path: Path) -> None:
    _check(render_collector_config(load_stack_file(stack_file)), tmp_path)


VARIANTS = _variants()


@pytest.mark.parametrize(("name", "config"), VARIANTS, ids=[name for name, _ in VARIANTS])
def test_every_option_renders_a_config_the_collector_accepts(name: str, config: dict, tmp_path: Path) -> None:
    _check(render_collector_config(parse(config)), tmp_path)


def test_validate_refuses_a_broken_config(tmp_path: Path) -> None:
    """The check itself can fail: a pipeline naming an undefined processor is refused."""
    config = render_collector_config(parse(aws_config()))
    broken = config.replace("processors: [memory_limiter, batch/logs]", "processors: [memory_limiter, batch/nope]")
    assert broken != config
    config_path = tmp_path / "config.yaml"
    config_path.write_text(broken)
    result = validate(config_path)
    assert result.returncode != 0
    assert "batch/nope" in result.stderr
