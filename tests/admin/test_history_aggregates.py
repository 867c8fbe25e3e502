"""The history page's counters and hourly chart, and the `jobimport_runs` metric, come from the
store's rollups: with more runs in the chart's window than the page used to read (5,000), every
number still equals the runs counted by hand."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from html import unescape

from prometheus_client.parser import text_string_to_metric_families

from jobimport.models import ImportRun, RunStatus
from jobimport.store.base import RunQuery
from jobimport.store.rollups import floor_hour
from jobimport.web import keys
from tests.admin.conftest import AdminClient
from tests.admin.support import settled
from tests.feedgen import items, rss
from tests.feedserver import FeedServer

EXTRA = 5001  # one more than the page's old MAX_CHART_RUNS


def cards(html: str) -> dict[str, int]:
    found = re.findall(r"<dt[^>]*>([^<]+)</dt>\s*<dd[^>]*>([\d,]+)</dd>", html)
    return {label: int(value.replace(",", "")) for label, value in found}


def chart_rows(html: str) -> dict[str, tuple[int, ...]]:
    """The chart's table: hour label → (imports, new, updated, failed)."""
    table = html.split('<caption class="sr-only">Items per hour</caption>', 1)[1]
    table = table.split("</table>", 1)[0]
    out = {}
    for hour, numbers in re.findall(
        r'<a class="link" href="[^"]*">([^<]+)</a></td>(.*?)</tr>', table
    ):
        values = re.findall(r'<td class="num">([\d,]+)</td>', numbers)
        out[unescape(hour)] = tuple(int(v.replace(",", "")) for v in values)
    return out


async def test_history_counters_chart_and_metric_equal_the_runs_counted_by_hand(
    feeds: FeedServer, admin_client: AdminClient
) -> None:
    good = feeds.put("/good", rss(items(range(1, 4))))
    client = await admin_client(feeds=(good, feeds.base_url + "/missing"))
    await settled(client, 2)
    store = client.app[keys.STORE]
    for i in range(EXTRA):  # through the store's own steps, as the pipeline closes runs
        run, _ = await store.start_or_get_run(f"https://f{i}.test/feed", "test")
        status = RunStatus.FAILED if i % 3 == 0 else RunStatus.NOT_MODIFIED
        await store.close_run_early(run.id, status)
    await store.start_or_get_run("https://queued.test/feed", "test")  # one in flight
    runs: list[ImportRun] = (await store.list_runs(RunQuery(limit=EXTRA + 10))).items
    assert len(runs) == EXTRA + 3
    by_status = Counter(r.status.value for r in runs)

    async with client.get("/") as resp:
        html = await resp.text()
    shown = cards(html)
    assert shown["Imports"] == len(runs)
    assert shown["Running now"] == by_status["queued"] + by_status["running"] == 1
    assert shown["Failed imports"] == by_status["failed"]
    by_hour: dict[datetime, list[ImportRun]] = {}
    for run in runs:
        by_hour.setdefault(floor_hour(run.created_at), []).append(run)
    assert chart_rows(html) == {
        f"{hour:%b %d, %H:00}": (
            len(group),
            sum(r.counts.new for r in group),
            sum(r.counts.updated for r in group),
            sum(r.counts.failed for r in group),
        )
        for hour, group in by_hour.items()
    }

    async with client.get("/metrics") as resp:
        text = await resp.text()
    metric = {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "jobimport_runs"
    }
    assert metric == {s.value: by_status.get(s.value, 0) for s in RunStatus}
