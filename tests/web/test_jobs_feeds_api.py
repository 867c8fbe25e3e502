"""/api/jobs, /api/jobs/{id} and /api/feeds over real imports from loopback feeds."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.feedgen import Item, rss
from tests.feedserver import FeedServer
from tests.web.conftest import AppClient
from tests.web.test_imports_api import get_json, settled

Client = TestClient[Any, Any]

CATALOGUE = [
    Item(id=1, title="Python Backend Engineer", company="ACME", location="USA, Canada",
         job_type="Full Time", category="Software", description="<p>Django and SQL</p>"),
    Item(id=2, title="Data Analyst", company="Globex", location="Europe", job_type="Contract",
         category="Data &amp; Analytics", pub_date="Tue, 24 Nov 2026 06:10:00 +0000"),
    Item(id=3, title="Designer", company="ACME", location="Anywhere", job_type="Full Time",
         category="Design", pub_date="Sun, 22 Nov 2026 06:10:00 +0000"),
]  # fmt: skip


@pytest.fixture
async def catalogue(feeds: FeedServer, app_client: AppClient) -> tuple[Client, str, str]:
    first = feeds.put("/all", rss(CATALOGUE))
    second = feeds.put("/design", rss([CATALOGUE[2], Item(id=4, title="Illustrator")]))
    client = await app_client(feeds=(first, second))
    await settled(client, 2)
    return client, first, second


async def titles(client: Client, **params: Any) -> list[str]:
    page = await get_json(client, "/api/jobs", **params)
    assert page["total"] >= len(page["items"])
    return [job["title"] for job in page["items"]]


async def test_jobs_filters(catalogue: tuple[Client, str, str]) -> None:
    client, first, second = catalogue
    assert len(await titles(client)) == 4
    assert await titles(client, q="django") == ["Python Backend Engineer"]
    assert set(await titles(client, company="ACME")) == {"Python Backend Engineer", "Designer"}
    assert await titles(client, location="europe") == ["Data Analyst"]
    assert set(await titles(client, type="Contract")) == {"Data Analyst"}
    assert await titles(client, category="Data & Analytics") == ["Data Analyst"]
    assert set(await titles(client, feed=second)) == {"Designer", "Illustrator"}
    assert len(await titles(client, source="127.0.0.1")) == 4  # the feed's host
    assert await titles(client, source="elsewhere") == []
    assert await titles(client, updatedSince="2099-01-01T00:00:00Z") == []
    assert len(await titles(client, updatedSince="2000-01-01T00:00:00Z")) == 4
    assert await titles(client, feed=first, company="ACME", q="python") == [
        "Python Backend Engineer"
    ]


async def test_jobs_sort_and_page(catalogue: tuple[Client, str, str]) -> None:
    client, _, _ = catalogue
    assert await titles(client, sort="title", order="asc") == [
        "Data Analyst", "Designer", "Illustrator", "Python Backend Engineer",
    ]  # fmt: skip
    newest = await titles(client, sort="publishedAt", order="desc")
    assert newest[0] == "Data Analyst"
    first = await get_json(client, "/api/jobs", limit=3, sort="title", order="asc")
    assert (first["total"], len(first["items"])) == (4, 3)
    rest = await get_json(client, "/api/jobs", limit=3, sort="title", order="asc",
                          cursor=first["next"])  # fmt: skip
    assert [j["title"] for j in rest["items"]] == ["Python Backend Engineer"]
    assert rest["next"] is None
    page2 = await get_json(client, "/api/jobs", limit=3, page=2, sort="title", order="asc")
    assert page2["items"] == rest["items"]


async def test_one_job(catalogue: tuple[Client, str, str]) -> None:
    client, first, second = catalogue
    (designer,) = (await get_json(client, "/api/jobs", q="designer"))["items"]
    detail = await get_json(client, f"/api/jobs/{designer['id']}")
    assert detail["title"] == "Designer"
    assert set(detail["feeds"]) == {first, second}
    assert detail["raw"]["title"] == "Designer"
    assert detail["descriptionText"]
    assert detail["type"] == "Full Time"
    assert detail["externalId"].endswith("p=3")  # the guid: the link is not jobicy.com's
    for key in ("firstSeenAt", "lastSeenAt", "updatedAt", "firstSeenRunId"):
        assert detail[key]


@pytest.mark.parametrize("job_id", ["0" * 24, "nope", "ABCDEF0123456789abcdef01"])
async def test_unknown_job_is_404(app_client: AppClient, job_id: str) -> None:
    client = await app_client()
    body = await get_json(client, f"/api/jobs/{job_id}", 404)
    assert body["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("sort=salary", "sort"),
        ("updatedSince=last-week", "updatedSince"),
        ("q=" + "x" * 201, "q"),
        ("limit=-1", "limit"),
        ("type=a&type=b", "type"),
        ("salary=1", "salary"),
    ],
)
async def test_jobs_bad_parameters(app_client: AppClient, query: str, parameter: str) -> None:
    client = await app_client()
    resp = await client.get(f"/api/jobs?{query}")
    body = await resp.json()
    assert resp.status == 400
    assert body["error"]["details"]["parameter"] == parameter


async def test_job_detail_takes_no_parameters(catalogue: tuple[Client, str, str]) -> None:
    client, _, _ = catalogue
    job_id = (await get_json(client, "/api/jobs", limit=1))["items"][0]["id"]
    body = await get_json(client, f"/api/jobs/{job_id}", 400, verbose="1")
    assert body["error"]["details"]["parameter"] == "verbose"


async def test_feeds_with_state(feeds: FeedServer, app_client: AppClient) -> None:
    good = feeds.put("/good", rss(CATALOGUE))
    missing = feeds.base_url + "/missing"
    client = await app_client(feeds=(good, missing))
    await settled(client, 2)
    await client.post("/api/imports", json={"feeds": [missing]})
    await settled(client, 3)
    page = await get_json(client, "/api/feeds")
    assert (page["total"], page["next"]) == (2, None)
    by_url = {feed["url"]: feed for feed in page["items"]}
    assert [f["url"] for f in page["items"]] == [good, missing]  # configuration order
    ok, bad = by_url[good], by_url[missing]
    assert (ok["lastStatus"], ok["consecutiveFailures"], ok["due"]) == ("succeeded", 0, False)
    assert ok["lastSuccessAt"] == ok["lastRunAt"]
    assert ok["nextRunAt"] > ok["lastRunAt"]
    assert (bad["lastStatus"], bad["consecutiveFailures"], bad["lastSuccessAt"]) == (
        "failed", 2, None,
    )  # fmt: skip
    assert bad["inFlightRunId"] is None
    runs = await get_json(client, "/api/imports", feed=missing)
    assert bad["lastRunId"] == runs["items"][0]["id"]
    one = await get_json(client, "/api/feeds", limit=1)
    assert [f["url"] for f in one["items"]] == [good]
    two = await get_json(client, "/api/feeds", limit=1, cursor=one["next"])
    assert ([f["url"] for f in two["items"]], two["next"]) == ([missing], None)
    bad_limit = await get_json(client, "/api/feeds", 400, limit=1000)
    assert bad_limit["error"]["details"]["parameter"] == "limit"
