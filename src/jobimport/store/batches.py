"""What both backends do the same way to a staged batch's items, apart from storing them."""

from __future__ import annotations

from collections.abc import Sequence

from jobimport.models import ItemFailure, ItemFailureReason, Job, StagedEntry


def job_failure(job: Job, reason: str, message: str) -> ItemFailure:
    """`job` failed for `reason`, keeping what identifies it in the import log."""
    return ItemFailure(
        reason=reason,
        message=message,
        position=job.position,
        identity=job.identity,
        url=job.url,
        title=job.title,
    )


def duplicate_in_feed(job: Job) -> ItemFailure:
    """A second job with the same identity in one batch: the normalizer should have caught it;
    the store never counts it twice."""
    message = f"another item of this batch has the identity {job.identity}"
    return job_failure(job, ItemFailureReason.DUPLICATE_IN_FEED.value, message)


def fail_entries(entries: Sequence[StagedEntry], reason: str, message: str) -> list[ItemFailure]:
    """The failures `Store.fail_batch` records for a staged batch: each job fails for `reason`
    with `message`; an item that had already failed keeps its own reason and message."""
    return [
        entry if isinstance(entry, ItemFailure) else job_failure(entry, reason, message)
        for entry in entries
    ]
