"""The ``kong-slo`` subcommands: one module each, with ``NAME``, ``HELP``, ``add_arguments`` and ``run``."""
