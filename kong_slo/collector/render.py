"""Render the collector deployment (compose file, collector config, cloud-init) from the stack settings.

Pure functions returning text; one Jinja2 environment over the project's ``templates/`` folder with
``StrictUndefined``, so a missing value fails loudly instead of rendering an empty string. Secrets
never enter a template: the collector reads the Dynatrace token from ``${env:DT_API_TOKEN}``.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import jinja2
import yaml

from kong_slo import telemetry
from kong_slo.collector.model import (
    COLLECTOR_CONFIG_PATH,
    COLLECTOR_UID,
    CONTAINER_MEMORY_MIB,
    COUNTS_QUEUE_MIB,
    DATA_QUEUE_MIB,
    DRAIN_SECONDS,
    DYNATRACE_COMPONENTS,
    FLUSH_SECONDS,
    GOMEMLIMIT_MIB,
    HEALTH_PORT,
    LOCAL_TOKEN_SOURCE,
    MEMORY_LIMIT_MIB,
    MEMORY_SPIKE_MIB,
    OTLP_GRPC_PORT,
    OTLP_HTTP_PORT,
    QUEUE_DIRECTORY,
    QUEUE_HOST_DIRECTORY,
    QUEUE_VOLUME_LABEL,
    QUEUE_VOLUME_WAIT_SECONDS,
    SPAN_METRICS,
    TELEMETRY_PORT,
    TOKEN_ENV_FILE,
    TOKEN_ENV_VAR,
    CollectorModel,
    collector_model,
    components_outside,
    ottl_string,
)
from kong_slo.errors import KongSloError
from kong_slo.settings import StackSettings

__all__ = ["APP_DIR", "render_cloud_init", "render_collector_config", "render_compose",
           "render_queue_volume_script"]

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
APP_DIR = "/opt/kong-slo"
"""Where cloud-init puts docker-compose.yml, the collector config and the token env file on the host."""
FETCH_TOKEN_SCRIPT = "/usr/local/sbin/kong-slo-fetch-token"
SERVICE_UNIT = "kong-slo-collector.service"
DRAIN_SCRIPT = "/usr/local/sbin/kong-slo-drain"
"""Run when the collector stops (a restart, a shutdown, the host's replacement): refuse new OTLP connections,
keep running past one flush of the span metrics connector, then stop the containers."""
QUEUE_VOLUME_SCRIPT = "/usr/local/sbin/kong-slo-queue-volume"
"""Run before the collector starts on a single host: mount its queue volume (``templates/queue-volume.sh.j2``)."""
INIT_IMAGE = "busybox:1.37.0"
"""Runs once per start to give the queue volume to the collector's uid (the collector image has no shell)."""

SSM_PARAMETER = re.compile(r"^/?[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")
AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")


def yaml_str(text: object) -> str:
    """A YAML scalar for any string: single-quoted when possible (readable OTTL), else double-quoted."""
    value = str(text)
    if value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value)


def python_str(text: object) -> str:
    """A Python string literal (JSON's escaping is valid Python for these ASCII values)."""
    return json.dumps(str(text))


def comment(text: object) -> str:
    """Text that stays on one comment line."""
    return " ".join(str(text).split())


@functools.cache
def environment() -> jinja2.Environment:
    """The one Jinja2 environment, created on first use."""
    if not TEMPLATES.is_dir():
        raise KongSloError(f"the templates folder {TEMPLATES} is missing; run kong-slo from a checkout of the project")
    jinja = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    jinja.filters.update(yaml_str=yaml_str, python_str=python_str, comment=comment)
    jinja.globals.update(
        t=telemetry, ottl_string=ottl_string, APP_DIR=APP_DIR, COLLECTOR_CONFIG_PATH=COLLECTOR_CONFIG_PATH,
        COLLECTOR_UID=COLLECTOR_UID, CONTAINER_MEMORY_MIB=CONTAINER_MEMORY_MIB, FETCH_TOKEN_SCRIPT=FETCH_TOKEN_SCRIPT,
        GOMEMLIMIT_MIB=GOMEMLIMIT_MIB, HEALTH_PORT=HEALTH_PORT, INIT_IMAGE=INIT_IMAGE,
        MEMORY_LIMIT_MIB=MEMORY_LIMIT_MIB, MEMORY_SPIKE_MIB=MEMORY_SPIKE_MIB, OTLP_GRPC_PORT=OTLP_GRPC_PORT,
        OTLP_HTTP_PORT=OTLP_HTTP_PORT, QUEUE_DIRECTORY=QUEUE_DIRECTORY, SERVICE_UNIT=SERVICE_UNIT,
        SPAN_METRICS=SPAN_METRICS, TOKEN_ENV_FILE=TOKEN_ENV_FILE, TOKEN_ENV_VAR=TOKEN_ENV_VAR,
        LOCAL_TOKEN_SOURCE=LOCAL_TOKEN_SOURCE, DRAIN_SCRIPT=DRAIN_SCRIPT, FLUSH_SECONDS=FLUSH_SECONDS,
        DRAIN_SECONDS=DRAIN_SECONDS, QUEUE_HOST_DIRECTORY=QUEUE_HOST_DIRECTORY, QUEUE_VOLUME_LABEL=QUEUE_VOLUME_LABEL,
        QUEUE_VOLUME_SCRIPT=QUEUE_VOLUME_SCRIPT,
        COUNTS_QUEUE_MIB=COUNTS_QUEUE_MIB, DATA_QUEUE_MIB=DATA_QUEUE_MIB, TELEMETRY_PORT=TELEMETRY_PORT,
    )
    return jinja


def render_collector_config(settings: StackSettings) -> str:
    """The collector's config.yaml; raises ``KongSloError`` if it names a component its distribution lacks."""
    return _collector_config(collector_model(settings))


def render_compose(settings: StackSettings) -> str:
    """docker-compose.yml running the collector next to otel-collector-config.yaml (and the token env file)."""
    return _compose(collector_model(settings))


def render_cloud_init(settings: StackSettings, *, token_parameter: str, region: str) -> str:
    """User data for the collector host: Docker, the rendered files, and a systemd unit that reads the token
    from the SSM SecureString ``token_parameter`` in ``region`` at every boot and starts the collector."""
    if settings.dynatrace is None:
        raise KongSloError("the collector host exports to Dynatrace: kong-slo:dynatrace is required for target aws")
    if not SSM_PARAMETER.match(token_parameter) or len(token_parameter) > 1011:
        raise KongSloError(f"{token_parameter!r} is not an SSM parameter name such as "
                           "/kong-slo/dev/dynatrace-api-token")
    if not AWS_REGION.match(region):
        raise KongSloError(f"{region!r} is not an AWS region such as eu-west-1")
    model = collector_model(settings)
    return environment().get_template("cloud-init.yaml.j2").render(
        m=model,
        compose=_compose(model),
        collector_config=_collector_config(model),
        queue_volume_script=render_queue_volume_script(),
        token_parameter=token_parameter,
        region=region,
    )


def render_queue_volume_script(wait_seconds: int = QUEUE_VOLUME_WAIT_SECONDS) -> str:
    """The single host's ``ExecStartPre`` that waits for its queue volume, formats it if blank and mounts it."""
    return environment().get_template("queue-volume.sh.j2").render(wait_seconds=wait_seconds)


def _collector_config(model: CollectorModel) -> str:
    text = environment().get_template("otel-collector-config.yaml.j2").render(m=model)
    if model.distribution == "dynatrace":
        outside = components_outside(yaml.safe_load(text), DYNATRACE_COMPONENTS)
        if outside:
            raise KongSloError(f"the collector config uses {', '.join(outside)}, which the Dynatrace distribution "
                               "does not ship; set kong-slo:collector.distribution: contrib")
    return text


def _compose(model: CollectorModel) -> str:
    otlp_bind = "127.0.0.1:" if model.loopback_only else ""
    return environment().get_template("docker-compose.yml.j2").render(m=model, otlp_bind=otlp_bind)
