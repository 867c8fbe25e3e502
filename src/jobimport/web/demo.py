"""`jobimport demo`: the service on bundled sample feeds, so a new user without internet sees a
filled history, live progress and failures.

A second aiohttp server on 127.0.0.1 (the API's port + 1 when free) serves the samples in
`jobimport/samples/`: Jobicy-shaped feeds (all jobs, an overlapping category, one with bad items,
one that breaks off part-way), a HigherEdJobs category feed, and HigherEdJobs' articles feed
as servers get it (an Incapsula challenge page). They become the configured feeds, loopback
fetches are allowed for this run only, and every feed is imported at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import structlog
from aiohttp import web

from jobimport.settings import Settings, load_settings
from jobimport.store.base import RunQuery
from jobimport.web import keys
from jobimport.web.app import create_app
from jobimport.web.server import serve_until

log = structlog.get_logger(__name__)
DEMO_DATABASE_URL = "sqlite:///var/demo.db"
DEMO_BATCH_SIZE = 10  # small batches, so progress bars move visibly


@dataclass(frozen=True, slots=True)
class Sample:
    path: str
    file: str
    content_type: str = "application/rss+xml"
    status: int = 200


SAMPLES = (
    Sample("/jobicy/feed/job_feed", "jobicy-all.xml"),
    Sample("/jobicy/feed/job_feed/data-science", "jobicy-data-science.xml"),
    Sample("/jobicy/feed/job_feed/copywriting", "jobicy-bad-items.xml"),
    Sample("/jobicy/feed/job_feed/business", "jobicy-broken.xml"),
    Sample("/higheredjobs/rss/categoryFeed.cfm", "higheredjobs-category.xml"),
    Sample("/higheredjobs/rss/articleFeed.cfm", "higheredjobs-articles-blocked.html", "text/html"),
)


def sample_bytes(name: str) -> bytes:
    return resources.files("jobimport").joinpath("samples", name).read_bytes()


def samples_app() -> web.Application:
    """Serves every sample at its path, like the real sites would."""
    app = web.Application()
    for sample in SAMPLES:
        body = sample_bytes(sample.file)

        async def handler(
            request: web.Request, body: bytes = body, sample: Sample = sample
        ) -> web.Response:
            del request
            return web.Response(body=body, status=sample.status, content_type=sample.content_type)

        app.router.add_get(sample.path, handler)
    return app


def demo_settings(settings: Settings, base_url: str) -> Settings:
    """The user's settings, with the samples as feeds and loopback fetches allowed. Unless set
    explicitly, the demo keeps its own database and uses small batches."""
    overrides: dict[str, Any] = {
        "feeds": tuple(base_url + sample.path for sample in SAMPLES),
        "allow_private_addresses": True,
    }
    if "database_url" not in settings.model_fields_set:
        overrides["database_url"] = DEMO_DATABASE_URL
    if "batch_size" not in settings.model_fields_set:
        overrides["batch_size"] = DEMO_BATCH_SIZE
    return load_settings(**{**_explicit(settings), **overrides})


def _explicit(settings: Settings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.model_fields_set}


async def run_demo(settings: Settings, host: str, port: int, stop: asyncio.Event) -> None:
    feeds_runner = web.AppRunner(samples_app(), handle_signals=False)
    await feeds_runner.setup()
    try:
        # Next to the API's port when free, so a relaunch serves the same feed URLs (the
        # history then shows one feed per sample, not one per launch); else any free port.
        try:
            await web.TCPSite(feeds_runner, "127.0.0.1", port + 1 if port else 0).start()
        except OSError:
            await web.TCPSite(feeds_runner, "127.0.0.1", 0).start()
        feed_host, feed_port = feeds_runner.addresses[0][:2]
        demo = demo_settings(settings, f"http://{feed_host}:{feed_port}")
        app = create_app(demo, "all")

        async def import_all(app: web.Application) -> None:
            # The in-process tick may have started (even finished) some since start-up: start
            # the others, so each sample shows up once per launch, a relaunch included.
            store, since = app[keys.STORE], app[keys.STARTED_AT]
            query = RunQuery(created_after=since, limit=1)
            fresh = [
                url
                for url in demo.feeds
                if (await store.list_runs(replace(query, feed_url=url))).total == 0
            ]
            runs = await app[keys.SERVICES].scheduler.start_runs(fresh, trigger="demo")
            log.info("demo imports started", runs=len(runs))

        app.on_startup.append(import_all)
        print(
            f"jobimport demo: {len(SAMPLES)} sample feeds on http://{feed_host}:{feed_port}, "
            f"store {demo.database_url}\n"
            f"  admin http://{host}:{port}/\n"
            f"  API  http://{host}:{port}/api/imports   docs http://{host}:{port}/api/docs   "
            f"events http://{host}:{port}/api/events\n  Ctrl-C stops.",
            flush=True,
        )
        await serve_until(app, host, port, stop)
    finally:
        await feeds_runner.cleanup()
