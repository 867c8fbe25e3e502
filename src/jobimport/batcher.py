"""Cutting a document's entries into the batches the pipeline stages: BATCH_SIZE entries, or
fewer when they would make a stored batch too large."""

from __future__ import annotations

from jobimport.models import ItemFailure, SeenItem, StagedEntry

MAX_BATCH_BYTES = 8 * 1024 * 1024
"""A staged batch is also cut at about this many bytes: MongoDB documents stop at 16 MiB."""


def entry_weight(entry: StagedEntry) -> int:
    """A cheap upper estimate of an entry's stored size: the HTML shows up sanitized, as text,
    and again inside the raw item."""
    if isinstance(entry, ItemFailure):
        return 512 + len(entry.message)
    if isinstance(entry, SeenItem):
        return 256
    return 2048 + 3 * len(entry.description_html) + len(entry.summary or "")


class Batcher:
    """Cuts the stream of entries into batches of `size` entries or about MAX_BATCH_BYTES."""

    def __init__(self, size: int, max_bytes: int = MAX_BATCH_BYTES) -> None:
        self._size = size
        self._max_bytes = max_bytes
        self._entries: list[StagedEntry] = []
        self._bytes = 0

    def add(self, entries: list[StagedEntry]) -> list[list[StagedEntry]]:
        """Take entries; return the batches that became full."""
        full: list[list[StagedEntry]] = []
        for entry in entries:
            weight = entry_weight(entry)
            if self._entries and self._bytes + weight > self._max_bytes:
                full.append(self._take())
            self._entries.append(entry)
            self._bytes += weight
            if len(self._entries) >= self._size:
                full.append(self._take())
        return full

    def flush(self) -> list[list[StagedEntry]]:
        """The batch still held (possibly short), if any."""
        return [self._take()] if self._entries else []

    def _take(self) -> list[StagedEntry]:
        batch, self._entries, self._bytes = self._entries, [], 0
        return batch
