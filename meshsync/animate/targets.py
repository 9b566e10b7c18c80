"""Phones -> viseme keys: each phone's viseme over the phone's time; diphthongs split between two targets."""

from __future__ import annotations

from ..align import Segment
from .table import Table


def viseme_keys(phones: tuple[Segment, ...], table: Table) -> list[Segment]:
    """One key per viseme target, in acoustic time (the lead is the blend's business)."""
    keys = []
    for phone in phones:
        targets = table.phones.get(phone.label) or table.phones["spn"]
        step = (phone.end - phone.start) / len(targets)
        for i, viseme in enumerate(targets):
            keys.append(Segment(viseme, phone.start + i * step, phone.start + (i + 1) * step, phone.confidence))
    return keys
