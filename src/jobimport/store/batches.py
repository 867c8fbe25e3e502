"""What both backends do the same way to a staged batch's items, apart from storing them."""

from __future__ import annotations

from collections.abc import Sequence

from jobimport.models import ItemFailure, ItemFailureReason, Job, SeenItem, StagedEntry


def job_failure(job: Job | SeenItem, reason: str, message: str) -> ItemFailure:
    """`job` failed for `reason`, keeping what identifies it in the import log (a sighting has
    no URL or title of its own)."""
    return ItemFailure(
        reason=reason,
        message=message,
        position=job.position,
        identity=job.identity,
        url=job.url if isinstance(job, Job) else None,
        title=job.title if isinstance(job, Job) else None,
    )


def duplicate_in_feed(job: Job | SeenItem) -> ItemFailure:
    """A second job with the same identity in one batch: the normalizer should have caught it;
    the store never counts it twice."""
    message = f"another item of this batch has the identity {job.identity}"
    return job_failure(job, ItemFailureReason.DUPLICATE_IN_FEED.value, message)


def lost_sighting(item: SeenItem) -> ItemFailure:
    """A sighting of a job that is no longer stored: nothing to mark as seen, nothing counted;
    the feed's next run reads the item whole again (no fingerprint to match)."""
    message = f"{item.identity} was no longer stored when its batch applied"
    return job_failure(item, ItemFailureReason.LOST.value, message)


def fail_entries(entries: Sequence[StagedEntry], reason: str, message: str) -> list[ItemFailure]:
    """The failures `Store.fail_batch` records for a staged batch: each job fails for `reason`
    with `message`; an item that had already failed keeps its own reason and message."""
    return [
        entry if isinstance(entry, ItemFailure) else job_failure(entry, reason, message)
        for entry in entries
    ]
