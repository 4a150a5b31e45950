"""A secret value that cannot leak through repr, str or logging."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Secret:
    """A Pulumi secret from stack config.

    ``value`` is ``None`` when the secret is still encrypted (a stack file read without the
    Pulumi CLI): only its presence is known then. ``repr`` and ``str`` never show the value.
    """

    value: str | None = field(default=None, repr=False, compare=False)

    @property
    def known(self) -> bool:
        return self.value is not None

    def reveal(self) -> str:
        """The plain value; raises when it is still encrypted."""
        if self.value is None:
            raise ValueError("the secret is encrypted in the stack file; only `pulumi up` can read it")
        return self.value

    def __str__(self) -> str:
        return "[secret]"

    def __repr__(self) -> str:
        return "Secret([secret])"
