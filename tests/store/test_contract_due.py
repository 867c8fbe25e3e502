"""The Store contract of `list_due_feeds`, on every backend (the `store` fixture): the registered,
unpaused, due feeds in keyset pages by (next_run_at, url), never-run ones first."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from jobimport.models import FeedState
from jobimport.store.base import DueCursor, Store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def url(name: str) -> str:
    return f"https://feeds.example.test/{name}"


async def add(store: Store, name: str, next_run_at: datetime | None, **settings: object) -> None:
    added = await store.add_feed(FeedState(url=url(name), next_run_at=next_run_at, **settings))  # type: ignore[arg-type]
    assert added is not None


async def read_all(store: Store, now: datetime, limit: int) -> list[list[str]]:
    """Every page, as lists of URLs, following the cursor until a short page."""
    pages: list[list[str]] = []
    after: DueCursor | None = None
    while True:
        page = await store.list_due_feeds(now, after=after, limit=limit)
        assert len(page) <= limit
        pages.append([feed.url for feed in page])
        if len(page) < limit:
            return pages
        after = (page[-1].next_run_at, page[-1].url)


async def test_due_feeds_come_in_keyset_pages_never_run_first(store: Store) -> None:
    early, late = NOW - timedelta(hours=2), NOW - timedelta(minutes=1)
    await add(store, "n2", None)
    await add(store, "n1", None)
    await add(store, "b-late", late)
    await add(store, "a-late", late)  # the same time: the url breaks the tie
    await add(store, "early", early)
    await add(store, "exactly-now", NOW)
    await add(store, "future", NOW + timedelta(seconds=1))
    await add(store, "paused", early, paused=True)
    await add(store, "paused-never", None, paused=True)
    # Unregistered (ADHOC): only its run state is stored; it is never scheduled.
    await store.save_feed_run_state(FeedState(url=url("adhoc"), next_run_at=early))

    expected = ["n1", "n2", "early", "a-late", "b-late", "exactly-now"]
    for limit in (1, 2, 4, 6, 50):
        pages = await read_all(store, NOW, limit)
        flat = [u for page in pages for u in page]
        assert flat == [url(name) for name in expected], limit
        assert all(len(page) == limit for page in pages[:-1])


async def test_a_feed_that_moves_while_paging_is_not_read_twice(store: Store) -> None:
    for i in range(4):
        await add(store, f"f{i}", NOW - timedelta(minutes=10 - i))
    first = await store.list_due_feeds(NOW, limit=2)
    assert [f.url for f in first] == [url("f0"), url("f1")]
    # f0's run closes meanwhile: its next run moves to the future; f3 is made due earlier
    # than the cursor (an API change): it waits for the next tick rather than being read twice.
    await store.save_feed_run_state(replace(first[0], next_run_at=NOW + timedelta(hours=1)))
    f3 = await store.get_feed(url("f3"))
    assert f3 is not None
    await store.update_feed(f3.id, {"next_run_at": NOW - timedelta(hours=1)})
    rest = await store.list_due_feeds(NOW, after=(first[-1].next_run_at, first[-1].url), limit=5)
    assert [f.url for f in rest] == [url("f2")]
    again = await store.list_due_feeds(NOW, limit=5)
    assert [f.url for f in again] == [url("f3"), url("f1"), url("f2")]
