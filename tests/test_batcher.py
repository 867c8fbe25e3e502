"""Staged batches are cut by count, and by size so one batch stays far below MongoDB's 16 MiB."""

from __future__ import annotations

from jobimport.batcher import MAX_BATCH_BYTES, Batcher, entry_weight
from jobimport.models import ItemFailure, Job, StagedEntry


def job(i: int, html_chars: int = 10) -> Job:
    return Job(
        source="t",
        external_id=str(i),
        title="t",
        content_hash="h",
        description_html="x" * html_chars,
    )


def test_batches_are_cut_by_count_and_keep_order() -> None:
    batcher = Batcher(3)
    entries: list[StagedEntry] = [job(i) for i in range(7)]
    full = batcher.add(entries[:5]) + batcher.add(entries[5:])
    rest = batcher.flush()
    assert [len(b) for b in full] == [3, 3]
    assert [len(b) for b in rest] == [1]
    assert [e for b in full + rest for e in b] == entries
    assert batcher.flush() == []


def test_batches_are_cut_by_size() -> None:
    big = MAX_BATCH_BYTES // 3
    batcher = Batcher(100)
    entries: list[StagedEntry] = [job(i, html_chars=big // 3) for i in range(5)]
    batches = batcher.add(entries) + batcher.flush()
    assert len(batches) > 1
    for batch in batches:
        assert sum(entry_weight(e) for e in batch) <= MAX_BATCH_BYTES
    assert [e for b in batches for e in b] == entries


def test_one_oversized_entry_still_gets_its_own_batch() -> None:
    batcher = Batcher(100, max_bytes=1000)
    entries: list[StagedEntry] = [job(1, html_chars=5000), ItemFailure("missing_title", "m")]
    batches = batcher.add(entries) + batcher.flush()
    assert [len(b) for b in batches] == [1, 1]
