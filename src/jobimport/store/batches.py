"""What both backends do the same way to a staged batch, apart from storing it."""

from __future__ import annotations

from collections.abc import Sequence

from jobimport.models import ItemFailure, StagedEntry


def fail_entries(entries: Sequence[StagedEntry], reason: str, message: str) -> list[ItemFailure]:
    """The failures `Store.fail_batch` records for a staged batch: each job fails for `reason`
    with `message`; an item that had already failed keeps its own reason and message."""
    return [
        entry
        if isinstance(entry, ItemFailure)
        else ItemFailure(
            reason=reason,
            message=message,
            position=entry.position,
            identity=entry.identity,
            url=entry.url,
            title=entry.title,
        )
        for entry in entries
    ]
