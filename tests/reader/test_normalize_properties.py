"""Properties of normalize over arbitrary items: it never raises, and every Job it returns holds
the invariants the store and the admin pages rely on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobimport.models import ItemFailure, ItemFailureReason, Job
from jobimport.reader.dates import parse_date
from jobimport.reader.markup import clean_text
from jobimport.reader.normalize import (
    CONTENT_NS,
    DC_NS,
    JOBICY_NS,
    MEDIA_NS,
    Normalizer,
    content_hash_of,
)
from jobimport.reader.raw import RawElement, RawItem
from jobimport.reader.urls import resolve_http_url
from tests.support import examples

# Whole items cost more to generate than strings; these counts keep the file to a few seconds.
# (Run once with 3000 examples per test while writing it: nothing found.) `make test-fast` runs a
# fifth of them (tests.support.examples).
ITEMS = settings(
    max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
FAST = settings(max_examples=examples(100), deadline=None)

HOSTS = ["jobicy.com", "www.higheredjobs.com", "jobs.example.org"]
KNOWN_ELEMENTS: list[tuple[str | None, str | None, str]] = [
    (None, None, "title"),
    (None, None, "link"),
    (None, None, "guid"),
    (None, None, "pubDate"),
    (None, None, "description"),
    (None, None, "category"),
    (None, None, "id"),
    (None, None, "author"),
    ("content", CONTENT_NS, "encoded"),
    ("media", MEDIA_NS, "content"),
    ("media", MEDIA_NS, "thumbnail"),
    ("dc", DC_NS, "date"),
    ("dc", DC_NS, "creator"),
    ("job_listing", JOBICY_NS, "company"),
    ("job_listing", JOBICY_NS, "location"),
    ("job_listing", JOBICY_NS, "job_type"),
    ("job_listing", JOBICY_NS, "category"),
    ("job_listing", "https://jobs.example.org", "company"),
]

names = st.text(st.characters(categories=["L", "N"]) | st.sampled_from("_-."), min_size=1)
random_element = st.tuples(st.none() | names, st.none() | st.text(), names)
element_name = st.sampled_from(KNOWN_ELEMENTS) | random_element

# Plausible values next to arbitrary text, so that items also get far enough to become Jobs.
link_like = st.sampled_from(
    [
        "https://jobicy.com/jobs/150234-sales-assistant",
        "https://jobicy.com/?post_type=job_listing&p=151002",
        "https://www.higheredjobs.com/details.cfm?JobCode=179468928",
        "/details.cfm?JobCode=1",
        "jobs/7",
        "#frag",
        "?q=1",
        "//cdn.example.net/a.png",
        "javascript:alert(1)",
        "mailto:x@example.org",
        "https://exa mple.org/",
        "http://[::1]:8080/x",
        "HTTPS://Jobs.Example.org:443/a?utm_source=x#y",
    ]
)
date_like = st.sampled_from(
    [
        "Mon, 23 Nov 2026 06:10:00 +0000",
        "Wed, 10 Jun 2026 17:04:44 EDT",
        "2026-11-23T06:10:00Z",
        "2026-11-23",
        "Mon, 23 Nov 2026 06:10:00 XYZ",
    ]
)
html_like = st.sampled_from(
    [
        "<p>Hello <b>world</b></p><script>alert(1)</script>",
        '<a href="javascript:x" onclick="y()">x</a><a href="rel">r</a>',
        "Cleveland Institute of Music (Cleveland, OH)",
        "&amp;amp; &#8211; &#038; &lt;b&gt;",
        "<iframe src=x></iframe><style>p{}</style><!-- c -->",
    ]
)
text_value = st.text() | link_like | date_like | html_like
attrs = st.dictionaries(st.sampled_from(["url", "isPermaLink", "medium"]) | names, text_value)


@st.composite
def raw_items(draw: st.DrawFn) -> RawItem:
    elements = []
    for prefix, ns, local in draw(st.lists(element_name, max_size=12)):
        text = draw(text_value)
        elements.append(RawElement(local, ns, prefix, text, draw(attrs)))
    # Often a usable title, link and date, so that the later stages run too.
    for local, values in (("title", st.just("A job")), ("link", link_like), ("pubDate", date_like)):
        if draw(st.booleans()):
            at = draw(st.integers(0, len(elements)))
            elements.insert(at, RawElement(local, text=draw(values)))
    return RawItem(position=draw(st.integers(0, 10**6)), elements=tuple(elements))


@st.composite
def feed_url_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """Two feed URLs of one host and path, differing in their query (like the Jobicy feeds)."""
    host = draw(st.sampled_from(HOSTS))
    path = draw(st.sampled_from(["/", "/rss/feed.cfm", "/feeds/jobs/"]))
    first, second = draw(st.lists(st.text(min_size=1), min_size=2, max_size=2, unique=True))
    return f"https://{host}{path}?q={first}", f"https://{host}{path}?q={second}"


def assert_http_url(url: str | None) -> None:
    if url is None:
        return
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https")
    assert parts.hostname


def assert_job_invariants(job: Job, raw: RawItem) -> None:
    assert job.title
    assert job.title == job.title.strip()
    assert "  " not in job.title
    for value in (job.company, job.location, job.job_type, job.summary, *job.categories):
        assert value is None or (value and value == value.strip())
    assert_http_url(job.url)
    assert_http_url(job.logo_url)
    if job.published_at is not None:
        assert job.published_at.tzinfo is UTC
    assert re.fullmatch(r"[0-9a-f]{64}", job.content_hash)
    assert job.content_hash == content_hash_of(job)
    assert job.external_id
    assert "<script" not in job.description_html.lower()
    assert "<iframe" not in job.description_html.lower()
    assert not re.search(r"""\s(?:on\w+|style)=""", job.description_html, re.IGNORECASE)
    assert not re.search(r"""(?:href|src)="\s*javascript:""", job.description_html, re.I)
    assert job.position == raw.position
    assert job.raw == raw.to_json()


@ITEMS
@given(raw=raw_items(), feed_url=st.sampled_from(HOSTS).map(lambda h: f"https://{h}/feed"))
def test_normalize_never_raises_and_jobs_hold_their_invariants(raw: RawItem, feed_url: str) -> None:
    result = Normalizer(feed_url)(raw)
    if isinstance(result, Job):
        assert_job_invariants(result, raw)
    else:
        assert isinstance(result, ItemFailure)
        assert result.reason in {r.value for r in ItemFailureReason}
        assert result.message
        assert result.position == raw.position


@ITEMS
@given(raw=raw_items(), feed_url=st.text())
def test_normalize_survives_any_feed_url(raw: RawItem, feed_url: str) -> None:
    result = Normalizer(feed_url)(raw)
    assert isinstance(result, Job | ItemFailure)
    if isinstance(result, Job):
        assert_job_invariants(result, raw)


@ITEMS
@given(raw=raw_items(), feeds=feed_url_pairs())
def test_normalize_is_deterministic_and_ignores_the_feed_query(
    raw: RawItem, feeds: tuple[str, str]
) -> None:
    first, second = feeds
    once = Normalizer(first)(raw)
    assert Normalizer(first)(raw) == once
    other = Normalizer(second)(raw)
    if isinstance(once, Job):
        assert isinstance(other, Job)
        assert other.identity == once.identity
        assert other.content_hash == once.content_hash
    else:
        assert isinstance(other, ItemFailure)
        assert (other.reason, other.identity) == (once.reason, once.identity)


@ITEMS
@given(raw=raw_items())
def test_a_repeat_in_one_document_is_a_duplicate(raw: RawItem) -> None:
    normalize = Normalizer("https://jobicy.com/?feed=job_feed")
    first = normalize(raw)
    second = normalize(raw)
    if isinstance(first, Job):
        assert isinstance(second, ItemFailure)
        assert second.reason == ItemFailureReason.DUPLICATE_IN_FEED
        assert second.identity == first.identity
    else:
        assert second == first


@FAST
@given(value=st.text() | date_like)
def test_parse_date_never_raises_and_returns_utc(value: str) -> None:
    parsed = parse_date(value)
    assert parsed is None or parsed.tzinfo is UTC


@FAST
@given(
    moment=st.datetimes(
        min_value=datetime(1950, 1, 1), max_value=datetime(2049, 12, 31), timezones=st.just(UTC)
    ),
    offset_minutes=st.integers(-23 * 60, 23 * 60),
)
def test_rfc822_and_iso_dates_round_trip(moment: datetime, offset_minutes: int) -> None:
    moment = moment.replace(microsecond=0)
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    assert parse_date(format_datetime(local)) == moment
    assert parse_date(local.isoformat()) == moment


@FAST
@given(value=st.text())
def test_clean_text_is_collapsed_plain_text(value: str) -> None:
    cleaned = clean_text(value)
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned
    assert not re.search("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]", cleaned)


@FAST
@given(value=st.text() | link_like, base=st.sampled_from(["", "https://jobs.example.org/a/"]))
def test_resolved_urls_are_absolute_http(value: str, base: str) -> None:
    assert_http_url(resolve_http_url(value, base))
