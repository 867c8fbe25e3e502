"""A feed server for the benchmarks, run as its own process on 127.0.0.1 (a feed is remote).

`GET /feeds/NAME` streams bench/data/NAME without validators (every import downloads and parses
it again); `GET /v/NAME` sends ETag and Last-Modified and answers 304 to a matching
If-None-Match. The body is streamed from the file in 256 KiB writes, with Content-Length.

Run: `python -m bench.feedserver [--port P]`; prints `PORT <n>` on stdout once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from aiohttp import web

from bench.generate import DATA_DIR

WRITE = 256 * 1024
LAST_MODIFIED = "Mon, 23 Nov 2026 09:00:00 GMT"


async def _serve(request: web.Request, validators: bool) -> web.StreamResponse:
    name = request.match_info["name"]
    path = DATA_DIR / name
    if "/" in name or not path.is_file():
        raise web.HTTPNotFound()
    stat = path.stat()
    headers = {"Content-Type": "application/rss+xml; charset=utf-8"}
    if validators:
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        headers.update({"ETag": etag, "Last-Modified": LAST_MODIFIED})
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
    response = web.StreamResponse(headers=headers)
    response.content_length = stat.st_size
    await response.prepare(request)
    with path.open("rb") as body:
        while block := body.read(WRITE):
            await response.write(block)
    await response.write_eof()
    return response


async def plain(request: web.Request) -> web.StreamResponse:
    return await _serve(request, validators=False)


async def with_validators(request: web.Request) -> web.StreamResponse:
    return await _serve(request, validators=True)


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/feeds/{name}", plain)
    app.router.add_get("/v/{name}", with_validators)
    return app


async def main(port: int) -> None:
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"PORT {bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def feed_url(base: str, path: Path, validators: bool = False) -> str:
    return f"{base}/{'v' if validators else 'feeds'}/{path.name}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(main(parser.parse_args().port))
