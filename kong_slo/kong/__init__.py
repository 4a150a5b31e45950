"""Kong Gateway: the kong.conf tracing patch, the Admin API client and the opentelemetry plugin resource."""
