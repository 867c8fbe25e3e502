"""The warnings map of a run, on every backend: item warnings counted once per job and reason by
the batch that applies them, the document's own added when the run is staged, never counted
twice by a replay, never a failure."""

from __future__ import annotations

from jobimport.models import RunStatus, WarningReason
from jobimport.store.base import Store
from tests.store.test_contract import apply_staged, begin, fail, job, stage_all

DATE = WarningReason.DATE_UNPARSED.value
ENTITY = WarningReason.HTML_ENTITY.value
ENCODING = WarningReason.ENCODING_REPLACED.value


async def test_item_and_document_warnings_add_up_on_the_run(store: Store) -> None:
    run = await begin(store)
    batches = [
        [job(1, warnings=(DATE, ENTITY)), job(2, warnings=(DATE,)), fail(2)],
        [job(3), job(4, warnings=(ENTITY,))],
    ]
    await stage_all(store, run, batches)
    await store.mark_run_staged(run.id, len(batches), warnings={ENCODING: 1})
    first = await store.apply_batch(run.id, 0, batches[0])
    assert first.result.warnings == {DATE: 2, ENTITY: 1}
    await apply_staged(store, run.id, 1)
    again = await store.apply_batch(run.id, 0, batches[0])  # a redelivery counts nothing more
    assert not again.first_time
    assert again.result.warnings == {DATE: 2, ENTITY: 1}
    closed = await store.get_run(run.id)
    assert closed is not None
    assert closed.warnings == {DATE: 2, ENTITY: 2, ENCODING: 1}
    assert closed.status is RunStatus.PARTIAL  # from the failed item, not from the warnings
    assert closed.counts.failed == 1


async def test_a_run_with_only_warnings_succeeds(store: Store) -> None:
    run = await begin(store)
    batch = [job(1, warnings=(DATE,))]
    await stage_all(store, run, [batch])
    await store.mark_run_staged(run.id, 1, warnings={ENCODING: 1})
    await apply_staged(store, run.id, 0)
    closed = await store.get_run(run.id)
    assert closed is not None
    assert closed.status is RunStatus.SUCCEEDED
    assert closed.warnings == {DATE: 1, ENCODING: 1}
    stored = await store.get_batch_result(run.id, 0)
    assert stored is not None
    assert stored.warnings == {DATE: 1}


async def test_a_second_mark_run_staged_adds_no_warnings(store: Store) -> None:
    run = await begin(store)
    await stage_all(store, run, [[job(1)]])
    await store.mark_run_staged(run.id, 1, warnings={ENCODING: 1})
    await store.mark_run_staged(run.id, 1, warnings={ENCODING: 1})  # a redelivered fetch
    current = await store.get_run(run.id)
    assert current is not None
    assert current.warnings == {ENCODING: 1}


async def test_a_run_without_leniency_has_an_empty_map(store: Store) -> None:
    run = await begin(store)
    await stage_all(store, run, [[job(1)]])
    await store.mark_run_staged(run.id, 1)
    await apply_staged(store, run.id, 0)
    closed = await store.get_run(run.id)
    assert closed is not None
    assert closed.warnings == {}
