"""Classic Dynatrace (Environment API v2): SLOs (``/api/v2/slo``), the counter's metric declaration, burn-rate
metric events and ``kong-slo status`` rows. Imports the shared Dynatrace layer above it, never ``platform``."""
