"""Store.runs_version and Store.run_version, the validators of the API's ETags, on every backend:
each changes with every write a listing could show, and stays put when nothing changed."""

from __future__ import annotations

from datetime import timedelta

from jobimport.models import RunStatus
from jobimport.store.base import Store
from tests.store.test_contract import FEED, OTHER, begin, job, stage_all


class Versions:
    """The last versions seen; `changed()` says whether each moved since."""

    def __init__(self, store: Store, run_id: str | None = None) -> None:
        self.store, self.run_id = store, run_id
        self.seen: list[tuple[str, str | None]] = []

    async def now(self) -> tuple[str, str | None]:
        one = None if self.run_id is None else await self.store.run_version(self.run_id)
        return await self.store.runs_version(), one

    async def step(self) -> tuple[bool, bool]:
        """(runs_version changed, run_version changed) since the previous step."""
        current = await self.now()
        assert await self.now() == current  # reading twice, with no write between: the same
        before = self.seen[-1] if self.seen else (None, None)
        self.seen.append(current)
        return current[0] != before[0], current[1] != before[1]


async def test_versions_follow_every_write_of_a_run(store: Store) -> None:
    empty = await store.runs_version()
    assert await store.runs_version() == empty
    assert await store.run_version("0" * 24) is None

    run, _ = await store.start_or_get_run(FEED, "api")
    versions = Versions(store, run.id)
    assert (await versions.now())[0] != empty
    await versions.step()
    assert await store.mark_run_running(run.id) is not None
    assert await versions.step() == (True, True)
    await stage_all(store, run, [[job(1)], [job(2)]])
    await store.mark_run_staged(run.id, 2)
    assert await versions.step() == (True, True)
    entries = await store.load_staged_batch(run.id, 0)
    assert entries is not None
    await store.apply_batch(run.id, 0, entries)
    assert await versions.step() == (True, True)
    await store.apply_batch(run.id, 0, entries)  # a replay changes nothing
    assert await versions.step() == (False, False)
    assert await store.note_requeue(run.id) is not None
    assert await versions.step() == (True, True)
    last = await store.load_staged_batch(run.id, 1)
    assert last is not None
    closed = (await store.apply_batch(run.id, 1, last)).run
    assert closed.status is RunStatus.SUCCEEDED
    assert await versions.step() == (True, True)

    # Another run: its start, its cancel, and a prune each move the listing's version only.
    other = await begin(store, OTHER)
    assert await versions.step() == (True, False)
    assert await store.cancel_run(other.id) is not None
    assert await versions.step() == (True, False)
    assert closed.finished_at is not None
    assert await store.prune_runs(closed.finished_at + timedelta(days=1)) == 2
    assert await versions.step() == (True, True)
    assert await store.run_version(run.id) is None


async def test_a_run_closed_early_moves_both_versions(store: Store) -> None:
    run = await begin(store)
    versions = Versions(store, run.id)
    await versions.step()
    assert await store.close_run_early(run.id, RunStatus.NOT_MODIFIED) is not None
    assert await versions.step() == (True, True)
