"""kong-slo: SLO tracking for every API behind Kong Gateway, deployed with Pulumi."""

__version__ = "0.1.0"
