"""The OpenTelemetry collector kong-slo runs: every decision about its pipelines (``model``) and the files that
carry them (``render``: compose, collector config, cloud-init). Pure; imported by ``infra``, ``doctor`` and the
commands, never by ``kong`` or ``dynatrace``."""
