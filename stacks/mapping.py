"""Config to props: a construct's settings dataclass filled from the config section that documents
the same fields, so a stack names only what differs."""

from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def from_config(cls: type[T], section: Any, **overrides: Any) -> T:
    """`cls(...)` with every field taken from the attribute of the same name on `section`, unless
    given in `overrides`. A field the section lacks and no override gives is an AttributeError,
    so a renamed config field cannot be silently dropped."""
    return cls(**{f.name: overrides[f.name] if f.name in overrides else getattr(section, f.name)
                  for f in fields(cls)})
