"""The page config carries the Python rules the scripts apply (admin/rules.py), built from the
definitions the server uses: status labels and badges, event types, links, and the history's
view resolved by HistoryView (its /api/imports URL and the filter a live run must pass)."""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiohttp.test_utils import TestClient

from jobimport.events import types
from jobimport.models import RunStatus
from jobimport.web.admin import format as fmt
from jobimport.web.admin.views import API_PARAMS, HistoryView
from jobimport.web.api.schemas import ImportListQuery, ImportSort, ImportSummary
from tests.admin.conftest import AdminClient
from tests.admin.support import settled
from tests.feedgen import items, rss
from tests.feedserver import FeedServer

APP_CSS = Path(__file__).resolve().parents[2] / "src/jobimport/web/assets/app.css"
BAD_ITEM = "<item><title></title><link>https://x.test/no-title</link></item>"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


# The operators of admin/rules.py Comparison, as static/js/history.js applies them.
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "notBefore": lambda a, b: when(a) >= when(b),
    "before": lambda a, b: when(a) < when(b),
}


def passes(run: dict[str, Any], clauses: list[list[list[Any]]]) -> bool:
    return all(any(OPS[op](run[field], value) for field, op, value in c) for c in clauses)


async def config_of(client: TestClient[Any, Any], path: str) -> dict[str, Any]:
    async with client.get(path) as resp:
        assert resp.status == 200
        html = await resp.text()
    (text,) = re.findall(r'<script type="application/json" id="page-config">(.*?)</script>', html)
    config: dict[str, Any] = json.loads(text)
    return config


async def get_json(client: TestClient[Any, Any], path: str) -> Any:
    async with client.get(path) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


@pytest.fixture
async def three_runs(feeds: FeedServer, admin_client: AdminClient) -> TestClient[Any, Any]:
    """good (succeeded), partial (an item failed) and missing (404: failed), imported once."""
    urls = (
        feeds.put("/good", rss(items(range(1, 4)))),
        feeds.put("/partial", rss([*items(range(10, 12)), BAD_ITEM])),
        feeds.base_url + "/missing",
    )
    client = await admin_client(feeds=urls)
    await settled(client, 3)
    return client


async def test_every_page_carries_the_status_event_and_link_rules(
    admin_client: AdminClient,
) -> None:
    client = await admin_client()
    css = APP_CSS.read_text()
    for path in ("/", "/feeds", "/jobs"):
        config = await config_of(client, path)
        assert set(config["statuses"]) == {status.value for status in RunStatus}
        for status in RunStatus:
            rule = config["statuses"][status.value]
            assert rule["label"] == fmt.STATUS_LABELS[status.value] == fmt.status_label(status)
            assert rule["badge"] == fmt.status_badge(status.value)
            assert f".{rule['badge']} " in css  # a badge the stylesheet styles
            assert rule["final"] is status.is_final
        events = config["events"]
        wire = {
            c.type
            for c in vars(types).values()
            if isinstance(c, type) and issubclass(c, types.RunEvent) and c is not types.RunEvent
        }
        assert {*events["run"], *events["final"], events["progress"], events["alert"]} == wire
        assert set(events["final"]) < set(events["run"])
        assert events["alert"] not in events["run"]
        assert config["links"] == {
            "history": "/",
            "run": "/imports/{id}",
            "historyView": "/history/view",
        }


def test_the_view_passes_the_api_its_own_parameters_and_omits_shared_defaults() -> None:
    assert set(API_PARAMS) <= set(ImportListQuery.model_fields)
    assert set(HistoryView.model_fields) - set(API_PARAMS) == {"range"}
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert HistoryView().api_href(now) == "/api/imports"
    view, api = HistoryView(), ImportListQuery()
    for name in API_PARAMS:  # what the view leaves out, the API assumes
        if name == "page":
            assert (view.page, api.page) == (1, None)  # no page: the first
        elif name == "status":
            assert (view.status, api.status) == (None, [])  # no status: any
        else:
            assert getattr(view, name) == getattr(api, name), name
    ranged = urlsplit(HistoryView(range="24h", page=2, status=RunStatus.FAILED).api_href(now))
    raw: dict[str, Any] = dict(parse_qsl(ranged.query))
    query = ImportListQuery.model_validate({**raw, "status": raw["status"].split(",")})
    assert (query.since, query.until) == (now - timedelta(hours=24), None)
    assert (query.page, query.status) == (2, [RunStatus.FAILED])


@pytest.mark.parametrize(
    "query",
    ["", "?status=failed", "?withFailures=1&sort=newJobs&order=asc", "?status=partial&page=2",
     "?range=24h", "?until=2000-01-01T00:00:00Z", "?feed=FEED"],
)  # fmt: skip
async def test_the_history_view_lists_and_filters_as_the_page_and_the_store_do(
    three_runs: TestClient[Any, Any], query: str
) -> None:
    client = three_runs
    everything = (await get_json(client, "/api/imports?limit=100"))["items"]
    feed = next(run["fileName"] for run in everything if run["status"] == "partial")
    query = query.replace("FEED", feed)
    history = (await config_of(client, "/" + query))["history"]
    view = HistoryView.model_validate(dict(parse_qsl(query.lstrip("?"))))

    listed = await get_json(client, history["api"])
    html = await (await client.get("/" + query)).text()
    rows = re.findall(r'<tr class="run-row" data-run-id="([0-9a-f]{24})"', html)
    assert [run["id"] for run in listed["items"]] == rows  # the API lists what the page shows
    if view.page == 1:  # the filter a live run must pass selects what the store does
        assert {r["id"] for r in everything if passes(r, history["filter"])} == set(rows)
    fields = {field for clause in history["filter"] for field, _, _ in clause}
    assert fields <= set(ImportSummary.model_fields)

    assert history["values"] == view.model_dump(mode="json")
    assert history["liveTop"] is view.live_top
    assert history["filtered"] is view.filtered
    assert set(history["sortLinks"]) == set(get_args(ImportSort))
    for column, link in history["sortLinks"].items():
        href, aria = view.sort_link(column)
        assert link == {"href": "/" + href, "aria": aria}
    if "range" not in query:  # else `api` moves with the clock
        assert await get_json(client, "/history/view" + query) == history


async def test_the_view_endpoint_resolves_what_the_script_asks_for(
    admin_client: AdminClient,
) -> None:
    client = await admin_client()
    view = await get_json(client, "/history/view?sort=createdAt&order=desc&status=&range=7d&page=3")
    assert view["href"] == "/?page=3&range=7d"  # the defaults and empty values dropped
    assert view["firstPage"] == "/?range=7d"
    assert view["newest"] == "/?range=7d"
    since = dict(parse_qsl(urlsplit(view["api"]).query))["since"]
    assert abs(datetime.now(UTC) - timedelta(days=7) - when(since)) < timedelta(minutes=1)
    assert view["filter"] == [[["createdAt", "notBefore", since]]]
    bad = await get_json(client, "/history/view?sort=nope&page=-1")
    assert bad == await get_json(client, "/history/view")  # a bad value is dropped, as on the page
    assert bad["href"] == "/"
    assert bad["api"] == "/api/imports"


async def test_the_view_endpoint_needs_what_api_reads_need(admin_client: AdminClient) -> None:
    token = "test-admin-token-0123456789"
    client = await admin_client(admin_token=token, read_token_required=True)
    async with client.get("/history/view") as resp:
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "unauthorized"
    headers = {"Authorization": f"Bearer {token}"}
    async with client.get("/history/view", headers=headers) as resp:
        assert resp.status == 200
