"""Dynatrace, both flavours side by side (``classic/``, ``platform/``) over one layer they share: the HTTP client
and its credentials, the dynamic-provider base, Settings 2.0 objects, the stack's alerting profile and e-mail
notification, and ``component``, which declares a stack's objectives in its flavour."""
