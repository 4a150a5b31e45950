"""Latest Dynatrace (platform SLO API, Davis anomaly detectors): credentials, client, SLO definitions and
resources, burn-rate detectors and ``kong-slo status`` rows. Imports the shared Dynatrace layer above it, never
``classic``."""
