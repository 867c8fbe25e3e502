"""The feed-reading corpus: one small document per shape real readers meet (entities, encodings
with their HTTP header, date forms, RSS 0.90-2.0, Atom 0.3/1.0, JSON Feed, xml:base, refusals),
each with what it must give: per item the job fields that matter, the run's warnings and the
feed error. Written from docs/feeds.md (the shapes after feedparser's and Miniflux's suites).

Expected URLs may hold `{base}`: the serving origin (`http://127.0.0.1:PORT`), for links that
resolve against the feed's own URL. Every document is served at `{base}/feeds/<name>`."""

from __future__ import annotations

from tests.reader.corpus_bases import REFUSED, XML_BASE
from tests.reader.corpus_formats import FORMATS
from tests.reader.corpus_kit import FEED_PATH, Failed, Item, Shape, declared
from tests.reader.corpus_text import DATE_FORMS, DATES, ENCODINGS, ENTITIES, UNREADABLE_DATES

__all__ = [
    "BY_NAME",
    "CORPUS",
    "DATE_FORMS",
    "FEED_PATH",
    "UNREADABLE_DATES",
    "Failed",
    "Item",
    "Shape",
    "declared",
]

CORPUS: list[Shape] = [*ENTITIES, *ENCODINGS, *DATES, *FORMATS, *XML_BASE, *REFUSED]
BY_NAME = {shape.name: shape for shape in CORPUS}
assert len(BY_NAME) == len(CORPUS), "corpus names must be unique"
