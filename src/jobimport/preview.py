"""The preview of a feed: fetch, parse and normalize it as an import would, store nothing.

It answers "what would this feed import?" before a feed is added: the item count, the first
items as they would be stored, and the failures with reasons. The same fetch limits and address
rules apply (it goes through `open_feed`); a feed that cannot be read is an answer with `error`
set, not an exception.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import aiohttp

from jobimport.errors import FeedError
from jobimport.models import (
    FeedErrorInfo,
    FetchInfo,
    ItemFailure,
    Job,
    add_counts,
    count_warnings,
)
from jobimport.reader.document import DocumentReader
from jobimport.reader.fetch import open_feed
from jobimport.settings import Settings

PREVIEW_ITEMS = 10
PREVIEW_FAILURES = 50


@dataclass(slots=True)
class FeedPreview:
    """What an import of `url` would see now. `total` counts every item (`failed` of them fail)."""

    url: str
    total: int = 0
    failed: int = 0
    items: list[Job] = field(default_factory=list)
    failures: list[ItemFailure] = field(default_factory=list)
    error: FeedErrorInfo | None = None
    fetch: FetchInfo | None = None
    warnings: dict[str, int] = field(default_factory=dict)
    """Leniencies by reason, counted as an import counts them (models.ImportRun.warnings)."""

    def take(self, entries: list[Job | ItemFailure]) -> None:
        self.warnings = add_counts(self.warnings, count_warnings(entries))
        for entry in entries:
            self.total += 1
            if isinstance(entry, ItemFailure):
                self.failed += 1
                if len(self.failures) < PREVIEW_FAILURES:
                    self.failures.append(entry)
            elif len(self.items) < PREVIEW_ITEMS:
                self.items.append(entry)


async def preview_feed(
    session: aiohttp.ClientSession,
    url: str,
    settings: Settings,
    headers: Mapping[str, str] | None = None,
) -> FeedPreview:
    """Read the whole feed at `url` (without validators, so never a 304) into a FeedPreview."""
    preview = FeedPreview(url=url)
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    try:
        async with open_feed(session, url, settings, extra_headers=headers) as response:
            reader = DocumentReader(url, charset=response.charset, base_url=response.base_url)
            # One thread per document: lxml parsers must not hop between threads mid-document.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="preview") as executor:
                try:
                    async for chunk in response.chunks():
                        preview.take(await loop.run_in_executor(executor, reader.feed, chunk))
                except FeedError as exc:  # broke off part-way: what came before still counts
                    preview.error = exc.info
                preview.take(await loop.run_in_executor(executor, reader.close))
            if preview.error is None and reader.error is not None:
                preview.error = reader.error.info
            preview.warnings = add_counts(preview.warnings, reader.warnings)
            preview.fetch = response.info(int((time.monotonic() - started) * 1000))
    except FeedError as exc:
        preview.error = exc.info
        preview.fetch = FetchInfo(
            status=exc.info.status, duration_ms=int((time.monotonic() - started) * 1000)
        )
    return preview
