"""A page's state lives in its URL: read leniently, written back as links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from multidict import MultiDict

from jobimport.models import JobStatus, RunStatus
from jobimport.web.admin.views import FeedsView, HistoryView, JobsView, read_view

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_history_view_reads_the_api_parameter_names() -> None:
    query = MultiDict(
        sort="newJobs", order="asc", feed="https://x.test/feed", status="failed",
        range="24h", withFailures="1", page="3", limit="50",
    )  # fmt: skip
    view, dropped = read_view(HistoryView, query)
    assert dropped == []
    run_query = view.run_query(NOW)
    assert (run_query.sort, run_query.descending) == ("new", False)
    assert run_query.feed_url == "https://x.test/feed"
    assert run_query.statuses == (RunStatus.FAILED,)
    assert run_query.only_with_failures is True
    assert run_query.created_after == NOW - timedelta(hours=24)
    assert (run_query.limit, run_query.offset) == (50, 100)


def test_bad_values_are_dropped_and_named_empty_ones_ignored() -> None:
    query = MultiDict(sort="nope", status="", page="0", feed="", order="desc", extra="x")
    view, dropped = read_view(HistoryView, query)
    assert sorted(dropped) == ["page", "sort"]
    assert view == HistoryView()


def test_a_bad_time_is_dropped_alone_and_an_inverted_window_whole() -> None:
    view, dropped = read_view(HistoryView, MultiDict(since="2026-11-23T10:00:00Z", until="x"))
    assert dropped == ["until"]
    assert view.since == datetime(2026, 11, 23, 10, tzinfo=UTC)
    inverted = MultiDict(since="2026-11-23T10:00:00Z", until="2026-11-23T09:00:00Z", page="2")
    view, dropped = read_view(HistoryView, inverted)
    assert dropped == ["since", "until"]
    assert (view.since, view.until, view.page) == (None, None, 2)
    naive, _ = read_view(
        HistoryView, MultiDict(since="2026-11-23T08:00", until="2026-11-23T09:00Z")
    )
    assert naive.since == datetime(2026, 11, 23, 8, tzinfo=UTC)


def test_explicit_window_wins_over_a_range() -> None:
    view = HistoryView(range="7d", since=NOW - timedelta(hours=1), until=NOW)
    assert view.window(NOW) == (NOW - timedelta(hours=1), NOW)


def test_links_keep_the_view_and_go_back_to_page_one() -> None:
    view = HistoryView(status=RunStatus.FAILED, page=4)
    assert parse_qs(view.href(sort="newJobs", order="asc")[1:]) == {
        "status": ["failed"], "sort": ["newJobs"], "order": ["asc"],
    }  # fmt: skip
    assert parse_qs(view.href(page=5)[1:]) == {"status": ["failed"], "page": ["5"]}
    assert HistoryView().href() == "?"


def test_sort_links_flip_the_sorted_column_and_start_others_sensibly() -> None:
    view = HistoryView(sort="newJobs", order="desc")
    href, aria = view.sort_link("newJobs")
    assert aria == "descending"
    assert parse_qs(href[1:]) == {"sort": ["newJobs"], "order": ["asc"]}
    assert view.sort_link("failedJobs") == ("?sort=failedJobs", "none")
    assert view.sort_link("fileName") == ("?sort=fileName&order=asc", "none")
    assert HistoryView(sort="status", order="asc").sort_link("status")[1] == "ascending"


def test_new_runs_go_on_top_of_the_first_newest_first_page_only() -> None:
    assert HistoryView().live_top
    assert not HistoryView(page=2).live_top
    assert not HistoryView(sort="newJobs").live_top
    assert not HistoryView(order="asc").live_top


def test_jobs_and_feeds_views() -> None:
    view, _ = read_view(JobsView, MultiDict(q="python", sort="title", order="asc", type=""))
    job_query = view.job_query()
    assert (job_query.text, job_query.sort, job_query.descending) == ("python", "title", False)
    assert job_query.job_type is None
    assert view.filtered
    assert not JobsView().filtered
    feeds, dropped = read_view(FeedsView, MultiDict(sort="bogus"))
    assert (feeds.sort, dropped) == (None, ["sort"])
    assert FeedsView().sort_link("consecutiveFailures")[0] == "?sort=consecutiveFailures&order=desc"


def test_the_jobs_status_filter_reaches_the_store_query() -> None:
    view, dropped = read_view(JobsView, MultiDict(status="expired"))
    assert (view.job_query().status, dropped) == (JobStatus.EXPIRED, [])
    assert view.filtered
    assert parse_qs(view.href(page=2)[1:]) == {"status": ["expired"], "page": ["2"]}
    assert JobsView().job_query().status is None  # both
    bad, dropped = read_view(JobsView, MultiDict(status="gone"))
    assert (bad.status, dropped) == (None, ["status"])
