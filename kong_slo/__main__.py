"""``python -m kong_slo``: the same as the ``kong-slo`` command."""

import sys

from kong_slo.cli import main

sys.exit(main())
