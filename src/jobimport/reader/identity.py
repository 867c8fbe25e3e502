"""What makes a job the same job (external id) and what makes it changed (content hash)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from jobimport.models import Job
from jobimport.reader.urls import canonical_url, host_is, query_param, split_url

MAX_EXTERNAL_ID_CHARS = 512
"""A longer guid or link is replaced by its sha256 as the external id (index keys stay small)."""

_NUMBER = re.compile(r"[0-9]{1,20}")
_JOBICY_SLUG = re.compile(r"/jobs/([0-9]{1,20})(?:[-/]|$)")
_JOB_CODE = re.compile(r"[0-9A-Za-z_-]{1,64}")
# Canonical JSON (sorted keys, no spaces, ASCII escapes) is the same in every process. One
# encoder for all: json.dumps with these options builds a new one per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def external_id(
    source: str, *, id_text: str, url: str | None, guid: str, title: str, company: str | None
) -> str:
    """The first of (DESIGN §3): the source's own id, the guid, the canonical link, a hash of
    source + title + company. The feed URL plays no part, so overlapping feeds agree."""
    found: str | None = None
    if source == "jobicy":
        found = _jobicy_id(id_text, url, guid)
    elif source == "higheredjobs":
        found = _job_code(url, guid)
    if found:
        return found
    if guid:
        return _bounded(guid)
    if url:
        return _bounded(canonical_url(url))
    return "sha256:" + _sha256(f"{source}\x00{title}\x00{company or ''}")


def _jobicy_id(id_text: str, url: str | None, guid: str) -> str | None:
    """Jobicy's numeric post id: `<id>`, else the slug of a jobicy.com link
    (`/jobs/150234-sales-assistant`), else `p=` of a jobicy.com link or guid."""
    id_text = id_text.strip()
    if _NUMBER.fullmatch(id_text):
        return _number(id_text)
    # Only jobicy.com URLs: an off-site link must not claim a Jobicy post's identity.
    for candidate in (url, guid):
        parts = split_url(candidate)
        if parts is None or not host_is(parts, "jobicy.com"):
            continue
        slug = _JOBICY_SLUG.match(parts.path)
        if slug is not None:
            return _number(slug[1])
        post = query_param(parts, "p")
        if post is not None and _NUMBER.fullmatch(post):
            return _number(post)
    return None


def _job_code(url: str | None, guid: str) -> str | None:
    """HigherEdJobs' `JobCode` query parameter of a higheredjobs.com link or guid."""
    for candidate in (url, guid):
        parts = split_url(candidate)
        if host_is(parts, "higheredjobs.com"):
            code = query_param(parts, "JobCode")
            if code is not None and _JOB_CODE.fullmatch(code):
                return code
    return None


def _number(digits: str) -> str:
    return digits.lstrip("0") or "0"


def _bounded(value: str) -> str:
    return value if len(value) <= MAX_EXTERNAL_ID_CHARS else "sha256:" + _sha256(value)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


HASHED_FIELDS = (
    "title", "company", "location", "job_type", "categories", "summary", "description_html",
    "url", "logo_url", "published_at",
)  # fmt: skip
"""The Job fields a reader sees: the content hash covers exactly these, and the
HASHED_WHEN_SET ones."""

HASHED_WHEN_SET = ("author", "enclosures")
"""Fields read since schema v5: the hash covers each only when it has a value, so a job without
them keeps the hash it was stored with before they existed (no upgrade counts it `updated`)."""


def content_hash(fields: Mapping[str, Any]) -> str:
    """sha256 hex over HASHED_FIELDS of `fields` (and HASHED_WHEN_SET ones that have a value);
    not over raw, position or the feed URL."""
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["categories"] = list(payload["categories"])
    published = payload["published_at"]
    payload["published_at"] = None if published is None else published.isoformat()
    if author := fields.get("author"):
        payload["author"] = author
    if enclosures := fields.get("enclosures"):
        payload["enclosures"] = [[e.url, e.type, e.length] for e in enclosures]
    encoded = _CANONICAL.encode(payload)
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


def content_hash_of(job: Job) -> str:
    """The content hash of `job`'s reader-visible fields, as `Normalizer` computes it."""
    names = HASHED_FIELDS + HASHED_WHEN_SET
    return content_hash({name: getattr(job, name) for name in names})
