"""A base for kong-slo's dynamic resources that keeps the Pulumi SDK's provider pickling bounded.

The SDK's ``serialize_provider`` wraps ``pickle._Pickler._batch_setitems`` once more on every dynamic
resource it declares and never unwraps it, so each declaration pickles through one more nested call. A
stack with a few hundred plugins, SLOs and alerts then ends in ``RecursionError``. Putting the original
method back before every declaration keeps the nesting at one level; the pickle produced is identical.
"""

from __future__ import annotations

import pickle
from typing import Any

from pulumi import Output, dynamic
from pulumi.output import Unknown
from pulumi.runtime import rpc

_ORIGINAL_BATCH_SETITEMS = pickle._Pickler._batch_setitems


def reset_pickler() -> None:
    """Undo the SDK's accumulated wrapping of ``_batch_setitems`` (a no-op when nothing was wrapped)."""
    pickle._Pickler._batch_setitems = _ORIGINAL_BATCH_SETITEMS  # type: ignore[method-assign]


def is_known(value: Any) -> bool:
    """False for an input the engine does not know yet (a preview of a value computed by another resource): the
    unknown sentinel, or an unknown output value, as the engine sends a map holding an unknown."""
    return value != rpc.UNKNOWN and not isinstance(value, Output | Unknown)


class DynamicResource(dynamic.Resource):
    """``pulumi.dynamic.Resource`` with the pickling reset; subclass it with ``module=`` and ``name=``."""

    def __init__(self, provider: dynamic.ResourceProvider, name: str, props: dict[str, Any],
                 opts: Any = None) -> None:
        reset_pickler()
        super().__init__(provider, name, props, opts)
