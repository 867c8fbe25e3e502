"""One whole import of a feed in the test's own process, without a queue: the two pipeline steps
chained as the tasks would run them."""

from __future__ import annotations

from jobimport.models import ImportRun
from jobimport.pipeline import Pipeline


async def import_inline(pipeline: Pipeline, feed_url: str, trigger: str = "cli") -> ImportRun:
    """Start a run of `feed_url`, fetch and stage it, apply every batch; returns the closed run."""
    run, _created = await pipeline.store.start_or_get_run(feed_url, trigger)
    run = await pipeline.fetch_and_stage(run.id)
    for n in await pipeline.store.pending_batches(run.id):
        run = await pipeline.apply_batch(run.id, n)
    return run
