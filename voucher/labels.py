"""Translated names of enum values (roles, statuses, units …) for people to read.

Each domain registers its own labels in its ``labels.py``; templates use ``value|label``.
"""

from __future__ import annotations

import enum

#: Keyed by (enum class, value): members of different StrEnums with the same value ("approved"
#: of a provider, a price, an invoice) are equal as strings but may read differently.
_LABELS: dict[tuple[type, object], object] = {}


def register(labels: dict[enum.Enum, object]) -> None:
    """Register the names of one enum's members (one enum per call: in a dict literal, members
    of two StrEnums with the same value would collide before they got here)."""
    for member, text in labels.items():
        _LABELS[(type(member), member.value)] = text


def label(value) -> str:
    """The translated name of an enum member (its value when none is registered)."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        found = _LABELS.get((type(value), value.value))
        if found is not None:
            return str(found)
    return str(getattr(value, "value", value))
