"""Deterministic Jobicy-shaped RSS feeds of 1k, 10k and 100k items for the benchmarks.

The shape follows tests/feedgen.py and the real Jobicy feed (tests/data/jobicy-structure-example
.xml): the same namespaces, `<id>`, a non-permalink guid, a CDATA teaser, `content:encoded` with
about 2 KB of HTML (paragraphs, lists, links, entities, and some markup nh3 must strip),
`media:content` and the `job_listing:*` fields. Item i is the same in every size (one seeded
stream), so the 1k feed is a prefix of the 10k one.

Files go to bench/data/ (gitignored) with a manifest; an existing file whose generator version
and size match is reused. `python -m bench.generate [SIZE ...]` generates ahead of time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

GENERATOR_VERSION = 1
SEED = 20261123
DATA_DIR = Path(__file__).resolve().parent / "data"
SIZES = (1_000, 10_000, 100_000)

_WORD_TEXT = (
    "build ship own scale design review mentor improve measure automate deliver support "
    "customers teams product platform data pipeline service quality roadmap growth remote "
    "async culture impact systems reliable secure modern cloud native analytics insight "
    "stakeholders collaborate across time zones clear writing ownership curiosity craft "
    "backend frontend mobile infrastructure observability testing release experiments metrics "
    "partner hiring onboarding documentation budget learning health equity benefits flexible"
)
_WORDS = _WORD_TEXT.split()
_TITLES = (
    "Senior Data Scientist &#8211; Forecasting",
    "Backend Engineer (Python)",
    "Product Designer",
    "Customer Success Manager",
    "Content Writer &amp; Editor",
    "DevOps Engineer",
    "Head of Marketing",
    "Sales Development Representative",
    "Frontend Developer, React",
    "Data Analyst (Contract)",
)
_COMPANIES = (
    "Northwind Analytics",
    "Caring &amp; Co",
    "Globex",
    "Initech",
    "Umbrella Health",
    "Stark Remote",
    "Acme &#038; Sons",
    "Hooli",
)
_LOCATIONS = ("Anywhere", "USA, Canada", "Europe", "UK", "LATAM", "APAC", "Germany, France")
_TYPES = ("Full Time", "Part Time", "Contract", "Internship")
_CATEGORIES = (
    "Data Science &amp; Analytics",
    "Software Engineering",
    "Design &amp; Multimedia",
    "Marketing",
    "Business",
    "Management",
    "Copywriting",
)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<rss version="2.0"\n'
    '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
    '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
    '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
    '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
    '\txmlns:media="http://search.yahoo.com/mrss/"\n'
    '\txmlns:job_listing="https://jobicy.com">\n'
    "<channel>\n"
    "\t<title>Remote Jobs &#8211; Jobicy</title>\n"
    '\t<atom:link href="https://jobicy.com/?feed=job_feed" rel="self" '
    'type="application/rss+xml" />\n'
    "\t<link>https://jobicy.com</link>\n"
    "\t<description>Remote jobs feed</description>\n"
    "\t<lastBuildDate>Mon, 23 Nov 2026 09:00:00 +0000</lastBuildDate>\n"
    "\t<language>en-US</language>\n"
)
TAIL = "</channel>\n</rss>\n"


def feed_path(size: int) -> Path:
    return DATA_DIR / f"jobicy-{size}.xml"


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(_WORDS, k=rng.randint(low, high))
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _html(rng: random.Random, job_id: int) -> str:
    """About 2 KB of Jobicy-like description HTML."""
    parts = [f"<p><strong>About the role</strong></p><p>{_sentence(rng, 14, 24)} "]
    parts.append(f"{_sentence(rng, 10, 18)} &amp; {_sentence(rng, 6, 12)}</p>")
    parts.append("<h3>What you will do</h3><ul>")
    parts.extend(f"<li>{_sentence(rng, 6, 12)}</li>" for _ in range(rng.randint(4, 6)))
    parts.append("</ul><h3>What you bring</h3><ul>")
    parts.extend(f"<li>{_sentence(rng, 5, 10)}</li>" for _ in range(rng.randint(3, 5)))
    parts.append(f'</ul><p><span style="font-weight: 400;">{_sentence(rng, 14, 24)}</span>')
    parts.append(f"&nbsp;<em>{_sentence(rng, 4, 8)}</em></p>")
    if job_id % 7 == 0:  # markup a sanitizer must remove
        parts.append('<script>track("view")</script><p onclick="steal()">Click&#8230;</p>')
    if job_id % 3 == 0:  # a relative link, resolved against the item's page
        parts.append('<p><a href="/apply?ref=feed">Apply on our site</a></p>')
    parts.append(
        f"<p>Benefits: {_sentence(rng, 10, 18)}<br />"
        f'<a href="https://careers.example.com/jobs/{job_id}?utm_source=jobicy">'
        "Apply now</a></p>"
    )
    return "".join(parts)


def item_xml(rng: random.Random, job_id: int) -> str:
    day = _DAYS[job_id % 7]
    minute, second = job_id % 60, (job_id * 7) % 60
    categories = "".join(
        f"\t\t<job_listing:category><![CDATA[{c}]]></job_listing:category>\n"
        for c in rng.sample(_CATEGORIES, rng.randint(1, 2))
    )
    return (
        "\t<item>\n"
        f"\t\t<title>{rng.choice(_TITLES)} #{job_id}</title>\n"
        f"\t\t<id>{job_id}</id>\n"
        f"\t\t<link>https://jobicy.com/jobs/{job_id}-remote-role-{job_id}</link>\n"
        f"\t\t<pubDate>{day}, 23 Nov 2026 06:{minute:02d}:{second:02d} +0000</pubDate>\n"
        f'\t\t<guid isPermaLink="false">https://jobicy.com/?post_type=job_listing&#038;'
        f"p={job_id}</guid>\n"
        f"\t\t<description><![CDATA[{_sentence(rng, 12, 20)}&#8230;]]></description>\n"
        f"\t\t<content:encoded><![CDATA[{_html(rng, job_id)}]]></content:encoded>\n"
        f'\t\t<media:content url="https://jobicy.com/data/logos/{job_id % 500}.png" '
        'medium="image" />\n'
        f"\t\t<job_listing:location><![CDATA[{rng.choice(_LOCATIONS)}]]>"
        "</job_listing:location>\n"
        f"\t\t<job_listing:job_type><![CDATA[{rng.choice(_TYPES)}]]></job_listing:job_type>\n"
        f"{categories}"
        f"\t\t<job_listing:company><![CDATA[{rng.choice(_COMPANIES)}]]>"
        "</job_listing:company>\n"
        "\t</item>\n"
    )


def iter_document(size: int) -> Iterator[str]:
    rng = random.Random(SEED)
    yield HEAD
    for i in range(size):
        yield item_xml(rng, 150_000 + i)
    yield TAIL


def _manifest() -> dict[str, dict[str, int]]:
    path = DATA_DIR / "manifest.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def ensure_feed(size: int, log: bool = True) -> Path:
    """The feed of `size` items, generated now unless an up-to-date one exists."""
    path = feed_path(size)
    entry = _manifest().get(str(size))
    if (
        entry is not None
        and entry.get("version") == GENERATOR_VERSION
        and path.exists()
        and path.stat().st_size == entry.get("bytes")
    ):
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as out:
        buffer: list[str] = []
        for piece in iter_document(size):
            buffer.append(piece)
            if len(buffer) >= 1000:
                out.write("".join(buffer))
                buffer.clear()
        out.write("".join(buffer))
    os.replace(tmp, path)
    manifest = _manifest()
    manifest[str(size)] = {"version": GENERATOR_VERSION, "bytes": path.stat().st_size}
    (DATA_DIR / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if log:
        mb = path.stat().st_size / 1e6
        took = time.perf_counter() - started
        print(f"generated {path.name}: {size} items, {mb:.1f} MB in {took:.1f} s", file=sys.stderr)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES))
    args = parser.parse_args(argv)
    for size in args.sizes:
        path = ensure_feed(size)
        print(f"{path} {path.stat().st_size}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
