"""Dynatrace: classic SLOs and Settings 2.0 alerting objects as Pulumi dynamic resources, and their client."""
