"""``LocalGateway``: the whole chain on the local Docker engine, for a laptop with no cloud account.

A private Docker network holds Postgres, Kong (migrated first, tracing switched on through the same
``KONG_*`` settings the kong.conf patch writes), the collector with the rendered config, and a demo
upstream. Only loopback ports are published on the host: Kong's proxy and Admin API, the collector's
OTLP and health endpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pulumi
import pulumi_docker as docker

from kong_slo.collector.model import (
    COLLECTOR_CONFIG_PATH,
    COLLECTOR_UID,
    GOMEMLIMIT_MIB,
    HEALTH_PORT,
    OTLP_HTTP_PORT,
    QUEUE_DIRECTORY,
    TELEMETRY_PORT,
    TOKEN_FILE,
)
from kong_slo.collector.render import INIT_IMAGE
from kong_slo.errors import KongSloError
from kong_slo.infra.local_endpoints import (
    ADMIN_PORT,
    COLLECTOR_HOST,
    LOOPBACK,
    PROXY_PORT,
    UPSTREAM_HOST,
    LocalEndpoints,
)
from kong_slo.settings import KongVersion, StackSettings

POSTGRES_IMAGE = "postgres:16-alpine"
UPSTREAM_IMAGE = "mccutchen/go-httpbin:v2.15.0"
DEFAULT_KONG_VERSION = "3.9"


GATEWAY_REPOSITORY_SINCE = KongVersion(3, 10)
"""Kong publishes 3.10 and later only as ``kong/kong-gateway``; the ``kong`` repository stops at 3.9."""
POSTGRES_DATA = "/var/lib/postgresql/data"
MIGRATIONS = "kong migrations bootstrap && kong migrations up && kong migrations finish"
MIGRATION_LOG_LINES = 30


def kong_image(settings: StackSettings) -> str:
    version = settings.kong.version or KongVersion.parse(DEFAULT_KONG_VERSION)
    repository = "kong/kong-gateway" if version >= GATEWAY_REPOSITORY_SINCE else "kong"
    return f"{repository}:{version}"


def migrations_outcome(exit_code: int | None, logs: str | None) -> str:
    """``done`` when ``kong migrations`` succeeded; otherwise raises with Kong's own last words, so ``up`` stops
    with them instead of waiting for a Kong that cannot start."""
    if not exit_code:
        return "done"
    tail = "\n".join((logs or "").strip().splitlines()[-MIGRATION_LOG_LINES:]) or "(no output)"
    raise KongSloError(f"kong migrations failed (exit code {exit_code}); Kong said:\n{tail}")


def kong_environment(tracing_env: Mapping[str, str]) -> list[str]:
    """Kong's container environment: Postgres on the private network, the Admin API on every container
    interface (published on the host's loopback only), and the tracing settings."""
    base = {
        "KONG_DATABASE": "postgres",
        "KONG_PG_HOST": "postgres",
        "KONG_PG_USER": "kong",
        "KONG_PG_DATABASE": "kong",
        "KONG_PROXY_LISTEN": f"0.0.0.0:{PROXY_PORT}",
        "KONG_ADMIN_LISTEN": f"0.0.0.0:{ADMIN_PORT}",
        "KONG_PROXY_ACCESS_LOG": "/dev/stdout",
        "KONG_ADMIN_ACCESS_LOG": "/dev/stdout",
        "KONG_PROXY_ERROR_LOG": "/dev/stderr",
        "KONG_ADMIN_ERROR_LOG": "/dev/stderr",
    }
    base.update(tracing_env)
    return [f"{key}={value}" for key, value in sorted(base.items())]


def _loopback(*ports: int) -> list[docker.ContainerPortArgs]:
    return [docker.ContainerPortArgs(internal=port, external=port, ip=LOOPBACK) for port in ports]


class LocalGateway(pulumi.ComponentResource):
    """Postgres, Kong, the collector and a demo upstream on one private Docker network."""

    def __init__(self, name: str, settings: StackSettings, *, collector_config: str,
                 tracing_env: Mapping[str, str], dynatrace_token: pulumi.Input[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        """``dynatrace_token`` (a secret) is uploaded as a read-only file the collector config refers to;
        without it the collector only logs through its debug exporter."""
        super().__init__("kongslo:local:LocalGateway", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        endpoints = LocalEndpoints()
        self.network = docker.Network(f"{name}-network", name=f"kong-slo-{settings.stack}", opts=child)

        def attach(alias: str) -> list[docker.ContainerNetworksAdvancedArgs]:
            return [docker.ContainerNetworksAdvancedArgs(name=self.network.name, aliases=[alias])]

        def image(label: str, reference: str) -> docker.RemoteImage:
            return docker.RemoteImage(f"{name}-{label}-image", name=reference, keep_locally=True, opts=child)

        logs = {"max-size": "10m", "max-file": "3"}
        # Postgres is reachable only on the private network, so it trusts its peers instead of holding a password.
        # The data lives on a named volume, so a replaced Postgres container keeps Kong's database. Ready means
        # answering over TCP: the image's first start answers on its Unix socket while still initialising.
        self.postgres_data = docker.Volume(f"{name}-postgres-data", name=f"kong-slo-{settings.stack}-postgres-data",
                                           opts=child)
        self.postgres = docker.Container(
            f"{name}-postgres", name=f"kong-slo-{settings.stack}-postgres",
            image=image("postgres", POSTGRES_IMAGE).image_id,
            envs=["POSTGRES_USER=kong", "POSTGRES_DB=kong", "POSTGRES_HOST_AUTH_METHOD=trust"],
            volumes=[docker.ContainerVolumeArgs(volume_name=self.postgres_data.name, container_path=POSTGRES_DATA)],
            networks_advanced=attach("postgres"), restart="unless-stopped", log_opts=logs,
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "kong", "-d", "kong"], interval="5s",
                timeout="5s", retries=10),
            wait=True, wait_timeout=120, opts=self._container_options())
        kong_image_id = image("kong", kong_image(settings)).image_id
        environment = kong_environment(tracing_env)
        self.migrations = docker.Container(
            f"{name}-kong-migrations", name=f"kong-slo-{settings.stack}-kong-migrations", image=kong_image_id,
            command=["sh", "-c", MIGRATIONS],
            envs=environment, networks_advanced=attach("kong-migrations"), must_run=False, attach=True,
            logs=True, opts=self._container_options(self.postgres))
        migrated = pulumi.Output.all(self.migrations.exit_code, self.migrations.container_logs).apply(
            lambda outcome: migrations_outcome(*outcome))
        self.kong = docker.Container(
            f"{name}-kong", name=f"kong-slo-{settings.stack}-kong", image=kong_image_id, envs=environment,
            labels=[docker.ContainerLabelArgs(label="kong-slo.migrations", value=migrated)],
            networks_advanced=attach("kong"), ports=_loopback(PROXY_PORT, ADMIN_PORT), restart="unless-stopped",
            log_opts=logs,
            healthcheck=docker.ContainerHealthcheckArgs(tests=["CMD", "kong", "health"], interval="5s",
                                                        timeout="5s", retries=20),
            wait=True, wait_timeout=180,
            opts=self._container_options(self.migrations))
        self.collector = self._collector(name, settings, collector_config, dynatrace_token,
                                         image("collector", settings.collector.image).image_id, attach, logs)
        self.upstream = docker.Container(
            f"{name}-upstream", name=f"kong-slo-{settings.stack}-upstream",
            image=image("upstream", UPSTREAM_IMAGE).image_id, networks_advanced=attach(UPSTREAM_HOST),
            restart="unless-stopped", log_opts=logs, opts=self._container_options())

        self.endpoints = endpoints
        self.register_outputs({
            "proxy_url": endpoints.proxy_url,
            "admin_url": endpoints.admin_url,
            "collector_health_url": endpoints.collector_health_url,
            "network": self.network.name,
        })

    def _container_options(self, *after: pulumi.Resource) -> pulumi.ResourceOptions:
        """Containers have fixed names and published ports, so one cannot coexist with its replacement;
        the Docker provider replaces create-first unless told to delete the old container first."""
        return pulumi.ResourceOptions(parent=self, depends_on=list(after), delete_before_replace=True)

    def _collector(self, name: str, settings: StackSettings, config: str, token: pulumi.Input[str] | None,
                   image_id: pulumi.Input[str], attach: Callable[[str], list[docker.ContainerNetworksAdvancedArgs]],
                   logs: dict[str, str]) -> docker.Container:
        uploads = [docker.ContainerUploadArgs(file=COLLECTOR_CONFIG_PATH, content=config)]
        volumes: list[docker.ContainerVolumeArgs] = []
        depends: list[pulumi.Resource] = []
        if token is not None:
            uploads.append(docker.ContainerUploadArgs(file=TOKEN_FILE, content=pulumi.Output.secret(token),
                                                      permissions="0400", owner=str(COLLECTOR_UID)))
            # The persistent sending queue: a named volume the collector (uid 10001, no shell) can write.
            queue = docker.Volume(f"{name}-queue", name=f"kong-slo-{settings.stack}-otelcol-queue",
                                  opts=pulumi.ResourceOptions(parent=self))
            volumes.append(docker.ContainerVolumeArgs(volume_name=queue.name, container_path=QUEUE_DIRECTORY))
            depends.append(docker.Container(
                f"{name}-queue-permissions", name=f"kong-slo-{settings.stack}-queue-permissions",
                image=docker.RemoteImage(f"{name}-init-image", name=INIT_IMAGE, keep_locally=True,
                                         opts=pulumi.ResourceOptions(parent=self)).image_id,
                command=["chown", f"{COLLECTOR_UID}:{COLLECTOR_UID}", QUEUE_DIRECTORY],
                volumes=[docker.ContainerVolumeArgs(volume_name=queue.name, container_path=QUEUE_DIRECTORY)],
                network_mode="none", must_run=False, attach=True, opts=self._container_options()))
        return docker.Container(
            f"{name}-collector", name=f"kong-slo-{settings.stack}-collector", image=image_id,
            command=["--config", COLLECTOR_CONFIG_PATH], uploads=uploads, volumes=volumes,
            envs=[f"GOMEMLIMIT={GOMEMLIMIT_MIB}MiB"], networks_advanced=attach(COLLECTOR_HOST),
            ports=_loopback(OTLP_HTTP_PORT, HEALTH_PORT, TELEMETRY_PORT), restart="unless-stopped", log_opts=logs,
            opts=self._container_options(*depends))
