"""The Store contract of feeds as data, on every backend (the `store` fixture): seeding from the
configuration, feeds added at run time, settings (`update_feed`) apart from run state
(`save_feed_run_state`), origins and deletion.

Times come from each backend's real clock and MongoDB keeps milliseconds: orders are checked after
a short tick, and every expected time is one the store handed back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from jobimport.models import FeedOrigin, FeedState, feed_id
from jobimport.scheduler import pause_unusable_feeds
from jobimport.store.base import FEED_SETTINGS, JobQuery, RunQuery, Store
from tests.store.test_contract import FEED, OTHER, import_run, job
from tests.store.test_contract_reconcile import tick

THIRD = "https://feeds.example.test/third"
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

RUN_STATE = FeedState(
    url=FEED,
    etag='"abc"',
    last_modified="Wed, 21 Oct 2015 07:28:00 GMT",
    last_run_id="0123456789ab0123456789ab",
    last_run_at=datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC),
    last_status="failed",
    last_success_at=datetime(2024, 5, 1, 11, 0, 1, tzinfo=UTC),
    consecutive_failures=3,
    next_run_at=datetime(2024, 5, 1, 13, 0, tzinfo=UTC),
    alerted_at=datetime(2024, 5, 1, 12, 0, 2, tzinfo=UTC),
)
"""A feed's run state as the pipeline writes it, with default (ADHOC) settings."""


def run_state(feed: FeedState) -> tuple[object, ...]:
    return (
        feed.etag,
        feed.last_modified,
        feed.last_run_id,
        feed.last_run_at,
        feed.last_status,
        feed.last_success_at,
        feed.consecutive_failures,
        feed.next_run_at,
        feed.alerted_at,
    )


def settings(feed: FeedState) -> tuple[object, ...]:
    return (feed.name, feed.schedule, feed.paused, feed.headers, feed.origin, feed.created_at)


async def stored(store: Store, url: str) -> FeedState:
    feed = await store.get_feed(url)
    assert feed is not None
    assert await store.get_feed_by_id(feed_id(url)) == feed
    return feed


async def listed(store: Store) -> list[str]:
    return [feed.url for feed in await store.list_feeds()]


# --- seeding ------------------------------------------------------------------------------


async def test_seeded_feeds_are_config_feeds_listed_oldest_first(store: Store) -> None:
    await store.seed_feeds([OTHER, FEED])
    feeds = await store.list_feeds()
    assert {f.url for f in feeds} == {FEED, OTHER}
    for feed in feeds:
        assert (feed.origin, feed.paused, feed.name, feed.schedule) == (
            FeedOrigin.CONFIG,
            False,
            None,
            None,
        )
        assert feed.created_at is not None
        assert feed.registered
        assert feed.id == feed_id(feed.url)
    assert feeds == sorted(feeds, key=lambda f: (f.created_at, f.url))
    assert [f.url for f in feeds] == [OTHER, FEED]  # new configured feeds: configuration order
    await tick()
    added = await store.add_feed(FeedState(url="https://a.test/first-by-url"))
    assert added is not None
    assert await listed(store) == [f.url for f in feeds] + [added.url]  # created_at, then url

    await store.seed_feeds([FEED, OTHER])  # idempotent: nothing moves
    assert await store.list_feeds() == [*feeds, added]


async def test_seeding_keeps_state_and_settings_of_feeds_it_takes_over(store: Store) -> None:
    await store.save_feed_run_state(RUN_STATE)  # an ADHOC feed (imported once by URL)
    api = await store.add_feed(
        FeedState(url=OTHER, name="Other", schedule="*/10 * * * *", headers={"X-Key": "k"})
    )
    assert api is not None
    paused = await store.update_feed(api.id, {"paused": True})
    assert paused is not None
    await store.seed_feeds([FEED, OTHER])

    feed = await stored(store, FEED)
    assert feed.origin is FeedOrigin.CONFIG
    assert feed.created_at is not None  # registered now
    assert run_state(feed) == run_state(RUN_STATE)
    other = await stored(store, OTHER)
    assert other.origin is FeedOrigin.CONFIG
    assert (other.name, other.schedule, other.headers, other.paused) == (
        "Other",
        "*/10 * * * *",
        {"X-Key": "k"},
        True,  # seeding never unpauses
    )
    assert other.created_at == api.created_at


async def test_a_config_feed_no_longer_configured_becomes_an_api_feed(store: Store) -> None:
    await store.seed_feeds([FEED, OTHER])
    before = await stored(store, OTHER)
    paused = await store.update_feed(before.id, {"paused": True})
    assert paused is not None
    assert not await store.delete_feed(before.id)  # config: not deletable

    await store.seed_feeds([FEED])
    after = await stored(store, OTHER)
    assert after.origin is FeedOrigin.API
    assert (after.paused, after.created_at) == (True, before.created_at)  # kept as it was
    assert set(await listed(store)) == {FEED, OTHER}
    assert (await stored(store, FEED)).origin is FeedOrigin.CONFIG
    assert await store.delete_feed(after.id)  # now it may go
    assert await listed(store) == [FEED]

    await store.seed_feeds([])
    assert (await stored(store, FEED)).origin is FeedOrigin.API


# --- adding and reading -------------------------------------------------------------------


async def test_add_feed_registers_an_api_feed_once(store: Store) -> None:
    wanted = FeedState(
        url=FEED,
        name="Jobs",
        schedule="0 * * * *",
        headers={"Authorization": "Bearer s3cret", "X-Ünïcode": "välue"},
    )
    added = await store.add_feed(wanted)
    assert added is not None
    assert (added.origin, added.name, added.schedule, added.paused, added.headers) == (
        FeedOrigin.API,
        "Jobs",
        "0 * * * *",
        False,
        {"Authorization": "Bearer s3cret", "X-Ünïcode": "välue"},
    )
    assert added.created_at is not None
    assert run_state(added) == run_state(FeedState(url=FEED))
    assert await stored(store, FEED) == added
    assert await store.list_feeds() == [added]

    assert await store.add_feed(FeedState(url=FEED, name="Again")) is None  # API exists
    await store.seed_feeds([OTHER])
    assert await store.add_feed(FeedState(url=OTHER, name="Config")) is None  # CONFIG exists
    assert (await stored(store, FEED)).name == "Jobs"
    assert (await stored(store, OTHER)).name is None


async def test_add_feed_takes_over_an_adhoc_feed_keeping_its_run_state(store: Store) -> None:
    await store.save_feed_run_state(RUN_STATE)
    adhoc = await stored(store, FEED)
    assert adhoc.origin is FeedOrigin.ADHOC
    assert await store.list_feeds() == []  # ADHOC feeds are not listed

    wanted = FeedState(url=FEED, name="Now listed", schedule="0 6 * * *", paused=True,
                       headers={"X-Key": "k"}, next_run_at=WHEN)  # fmt: skip
    added = await store.add_feed(wanted)
    assert added is not None
    assert added == await stored(store, FEED)
    assert (added.origin, added.name, added.schedule, added.paused, added.headers) == (
        FeedOrigin.API,
        "Now listed",
        "0 6 * * *",
        True,
        {"X-Key": "k"},
    )
    assert added.created_at is not None
    # The run state stays, except next_run_at: it is a setting too (FEED_SETTINGS).
    assert "next_run_at" in FEED_SETTINGS
    assert added.next_run_at == WHEN
    kept = run_state(RUN_STATE)
    assert run_state(added)[:7] == kept[:7]
    assert added.alerted_at == RUN_STATE.alerted_at
    assert await store.list_feeds() == [added]


async def test_unknown_feeds_read_as_none(store: Store) -> None:
    assert await store.get_feed("https://unknown.test/") is None
    assert await store.get_feed_by_id(feed_id("https://unknown.test/")) is None
    assert await store.get_feed_by_id("not-an-id") is None
    assert await store.update_feed(feed_id(FEED), {"paused": True}) is None
    assert not await store.delete_feed(feed_id(FEED))
    assert await store.list_feeds() == []


async def test_adhoc_feeds_are_readable_but_not_listed(store: Store) -> None:
    await store.save_feed_run_state(FeedState(url=THIRD, etag='"e"'))
    await store.seed_feeds([FEED])
    adhoc = await stored(store, THIRD)
    assert (adhoc.origin, adhoc.etag, adhoc.registered) == (FeedOrigin.ADHOC, '"e"', False)
    assert await listed(store) == [FEED]


# --- settings and run state ---------------------------------------------------------------


async def test_update_feed_changes_only_the_given_settings(store: Store) -> None:
    await store.save_feed_run_state(RUN_STATE)  # FEED's run state, while it is ADHOC
    added = await store.add_feed(FeedState(url=OTHER, name="Other", headers={"A": "1"}))
    assert added is not None
    feed = await store.add_feed(FeedState(url=FEED, name="Jobs", schedule="0 * * * *"))
    assert feed is not None

    paused = await store.update_feed(feed.id, {"paused": True})
    assert paused is not None
    assert paused == await stored(store, FEED)
    assert (paused.paused, paused.name, paused.schedule) == (True, "Jobs", "0 * * * *")
    assert run_state(paused) == run_state(feed)

    changed = await store.update_feed(
        feed.id,
        {"name": None, "schedule": "*/5 * * * *", "headers": {"Authorization": "Bearer t"},
         "paused": False, "next_run_at": WHEN},
    )  # fmt: skip
    assert changed is not None
    assert (changed.name, changed.schedule, changed.paused, changed.headers) == (
        None,
        "*/5 * * * *",
        False,
        {"Authorization": "Bearer t"},
    )
    assert changed.next_run_at == WHEN
    assert run_state(changed)[:7] == run_state(feed)[:7]
    assert (changed.alerted_at, changed.origin, changed.created_at) == (
        feed.alerted_at,
        FeedOrigin.API,
        feed.created_at,
    )
    assert await store.update_feed(feed.id, {}) == changed
    assert await stored(store, OTHER) == added  # the other feed is untouched


@pytest.mark.parametrize(
    "changes",
    [{"url": "https://elsewhere.test/"}, {"etag": "x"}, {"origin": "config"},
     {"paused": True, "consecutive_failures": 0}, {"id": "x"}],
)  # fmt: skip
async def test_update_feed_refuses_anything_but_settings(
    store: Store, changes: dict[str, object]
) -> None:
    await store.seed_feeds([FEED])
    before = await stored(store, FEED)
    unknown = next(k for k in changes if k not in FEED_SETTINGS)
    with pytest.raises(ValueError, match=unknown):
        await store.update_feed(before.id, dict(changes))
    with pytest.raises(ValueError, match=unknown):  # whether or not the feed exists
        await store.update_feed(feed_id(THIRD), dict(changes))
    assert await stored(store, FEED) == before


async def test_save_feed_writes_run_state_and_keeps_settings(store: Store) -> None:
    added = await store.add_feed(
        FeedState(url=FEED, name="Jobs", schedule="0 * * * *", headers={"X-Key": "k"})
    )
    assert added is not None
    paused = await store.update_feed(added.id, {"paused": True})
    assert paused is not None

    await store.save_feed_run_state(RUN_STATE)  # default settings in it: origin ADHOC, no name
    feed = await stored(store, FEED)
    assert run_state(feed) == run_state(RUN_STATE)
    assert settings(feed) == settings(paused)

    # The run state is written whole (validators dropped, streak over, alert cleared).
    cleared = FeedState(url=FEED, last_run_id="1" * 24, last_status="succeeded", last_run_at=WHEN)
    await store.save_feed_run_state(cleared)
    feed = await stored(store, FEED)
    assert run_state(feed) == run_state(cleared)
    assert settings(feed) == settings(paused)
    assert await store.list_feeds() == [feed]


async def test_save_feed_inserts_a_missing_feed_unregistered(store: Store) -> None:
    await store.save_feed_run_state(RUN_STATE)
    assert await stored(store, FEED) == RUN_STATE
    # A feed deleted while its run was in flight: the run's outcome must not bring it back
    # registered, nor with its settings and headers.
    added = await store.add_feed(FeedState(url=OTHER, name="Given", headers={"H": "v"}))
    assert added is not None
    assert await store.delete_feed(added.id)
    await store.save_feed_run_state(replace(added, last_status="succeeded", consecutive_failures=0))
    back = await stored(store, OTHER)
    assert (back.origin, back.name, back.headers, back.created_at) == (
        FeedOrigin.ADHOC,
        None,
        {},
        None,
    )
    assert back.last_status == "succeeded"
    assert await store.list_feeds() == []


# --- deleting -----------------------------------------------------------------------------


async def test_delete_feed_removes_api_and_adhoc_feeds_never_config_ones(store: Store) -> None:
    await store.seed_feeds([FEED])
    api = await store.add_feed(FeedState(url=OTHER))
    assert api is not None
    await store.save_feed_run_state(FeedState(url=THIRD))

    assert not await store.delete_feed(feed_id(FEED))
    assert await store.get_feed(FEED) is not None
    assert await store.delete_feed(api.id)
    assert await store.get_feed(OTHER) is None
    assert await store.get_feed_by_id(api.id) is None
    assert not await store.delete_feed(api.id)  # already gone
    assert await store.delete_feed(feed_id(THIRD))
    assert await store.get_feed(THIRD) is None
    assert await listed(store) == [FEED]


async def test_deleting_a_feed_keeps_its_jobs_and_runs(store: Store) -> None:
    api = await store.add_feed(FeedState(url=OTHER))
    assert api is not None
    run = await import_run(store, [[job(1), job(2)]], feed=OTHER)
    assert await store.delete_feed(api.id)
    assert await store.get_run(run.id) == run
    assert (await store.list_runs(RunQuery(feed_url=OTHER))).total == 1
    jobs = await store.list_jobs(JobQuery(feed_url=OTHER))
    assert {r.job.external_id for r in jobs.items} == {"1", "2"}
    assert all(r.feeds == (OTHER,) for r in jobs.items)
    again = await store.add_feed(FeedState(url=OTHER, name="Back"))
    assert again is not None
    assert again.name == "Back"


async def test_pause_note_is_a_setting_kept_apart_from_run_state(store: Store) -> None:
    added = await store.add_feed(FeedState(url=THIRD))
    assert added is not None
    assert added.pause_note is None
    noted = await store.update_feed(added.id, {"paused": True, "pause_note": "paused at start: x"})
    assert noted is not None
    assert (noted.paused, noted.pause_note) == (True, "paused at start: x")
    await store.save_feed_run_state(replace(RUN_STATE, url=THIRD, pause_note=None))
    kept = await store.get_feed(THIRD)
    assert kept is not None
    assert kept.pause_note == "paused at start: x"
    cleared = await store.update_feed(added.id, {"pause_note": None})
    assert cleared is not None
    assert cleared.pause_note is None


async def test_feeds_whose_stored_settings_are_refused_are_paused_once(store: Store) -> None:
    fine = await store.add_feed(FeedState(url=FEED, schedule="1h", headers={"X-Token": "t"}))
    never = await store.add_feed(FeedState(url=OTHER, schedule="3000000d"))
    assert fine is not None
    assert never is not None
    (paused,) = await pause_unusable_feeds(store)
    assert (paused.url, paused.paused, paused.schedule) == (OTHER, True, "3000000d")
    assert paused.pause_note == (
        "paused at start: schedule: interval '3000000d' is longer than 366 days"
    )
    assert await pause_unusable_feeds(store) == []  # the next start changes nothing
    untouched = await store.get_feed(FEED)
    assert untouched is not None
    assert (untouched.paused, untouched.pause_note) == (False, None)
