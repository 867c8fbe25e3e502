"""The state of a page lives in its URL: these models read it (leniently: a bad value is dropped
and named in a notice, a page never answers 400) and write links that change one part of it.

The names are the API's query parameters (`sort`, `order`, `feed`, `status`, `since`, `until`,
`withFailures`, `page`, `limit`), so HistoryView.api_href passes a view on to /api/imports as it
is; `range` (a relative window such as `24h`) is the one addition, resolved into `since`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

from multidict import MultiMapping
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from jobimport.models import JobStatus, RunStatus
from jobimport.store.base import JobQuery, RunQuery
from jobimport.web.api.imports import IMPORT_SORTS
from jobimport.web.api.jobs import JOB_SORTS
from jobimport.web.api.schemas import ImportListQuery, ImportSort, JobSort

V = TypeVar("V", bound="View")

RANGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
RANGE_LABELS = {
    "1h": "Last hour",
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
}
Range = Literal["1h", "24h", "7d", "30d"]
Order = Literal["asc", "desc"]


class View(BaseModel):
    """Base of a page's URL state. `href(**changes)` is a link to the same page with some parts
    changed; any change but `page` itself goes back to page 1."""

    model_config = ConfigDict(frozen=True)

    page: int = Field(1, ge=1, le=100_000)
    limit: int = Field(20, ge=1, le=100)

    def href(self, **changes: Any) -> str:
        values = self.model_dump()
        if "page" not in changes:
            changes["page"] = 1
        values.update(changes)
        return "?" + self._query(values)

    def _query(self, values: dict[str, Any]) -> str:
        """A query string of `values` without those that are empty or the view's default."""
        defaults = type(self)()
        pairs = []
        for name, value in values.items():
            if value is None or value == getattr(defaults, name) or value == "":
                continue
            if isinstance(value, bool):
                value = "1"
            elif isinstance(value, datetime):
                value = value.isoformat().replace("+00:00", "Z")
            pairs.append((name, str(value)))
        return urlencode(pairs)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def read_view(model: type[V], query: MultiMapping[str]) -> tuple[V, list[str]]:
    """The page state from the query string, and the names of the parameters that were dropped
    because their value was not valid (unknown parameters are ignored silently)."""
    # An empty value is a form's "any" choice (an unselected filter), not a bad one.
    raw: dict[str, Any] = {n: query.getone(n) for n in model.model_fields if query.get(n)}
    dropped: list[str] = []
    while True:
        try:
            return model.model_validate(raw), dropped
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]} & raw.keys()
            if not bad:  # a rule over several fields (since/until): drop the window
                bad = {"since", "until"} & raw.keys() or set(raw)
            for name in sorted(bad):
                raw.pop(name)
                dropped.append(name)


# --- import history ------------------------------------------------------------------------

TEXT_COLUMNS = frozenset({"fileName", "status"})


class HistoryView(View):
    sort: ImportSort = "createdAt"
    order: Order = "desc"
    feed: str | None = Field(None, max_length=2048)
    status: RunStatus | None = None
    range: Range | None = None
    since: datetime | None = None
    until: datetime | None = None
    withFailures: bool = False

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # A time without a zone is UTC, as in the API.
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value

    @model_validator(mode="after")
    def _window_in_order(self) -> HistoryView:
        if self.since and self.until and self.since >= self.until:
            raise ValueError("until must be later than since")  # as /api/imports says
        return self

    def sort_link(self, column: str) -> tuple[str, str]:
        """(href, aria-sort) of a column header: a click on the sorted column flips the order;
        another column starts descending (biggest, newest first), text columns ascending."""
        if column == self.sort:
            aria = "descending" if self.order == "desc" else "ascending"
            return self.href(sort=column, order="asc" if self.order == "desc" else "desc"), aria
        first = "asc" if column in TEXT_COLUMNS else "desc"
        return self.href(sort=column, order=first), "none"

    def window(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """The time filter: an explicit since/until wins over a relative range."""
        if self.since or self.until:
            return self.since, self.until
        if self.range:
            return now - RANGES[self.range], None
        return None, None

    def api_href(self, now: datetime) -> str:
        """This view as a GET /api/imports URL: the parameters the two share (API_PARAMS), with a
        relative `range` resolved into `since` at `now`."""
        since, until = self.window(now)
        values = {name: getattr(self, name) for name in API_PARAMS}
        query = self._query({**values, "since": since, "until": until})
        return f"{API_IMPORTS}?{query}" if query else API_IMPORTS

    def run_query(self, now: datetime) -> RunQuery:
        since, until = self.window(now)
        return RunQuery(
            feed_url=self.feed,
            statuses=(self.status,) if self.status else (),
            only_with_failures=self.withFailures,
            created_after=since,
            created_before=until,
            sort=IMPORT_SORTS[self.sort],
            descending=self.order == "desc",
            limit=self.limit,
            offset=self.offset,
        )

    @property
    def filtered(self) -> bool:
        return bool(self.feed or self.status or self.range or self.since or self.until) or (
            self.withFailures
        )

    @property
    def live_top(self) -> bool:
        """New runs belong at the top of this view (newest first, first page)."""
        return self.page == 1 and self.sort in ("createdAt", "startedAt") and self.order == "desc"


API_IMPORTS = "/api/imports"
API_PARAMS = tuple(
    name for name in HistoryView.model_fields if name in ImportListQuery.model_fields
)
"""The history's parameters that GET /api/imports takes as they are (all but `range`)."""


# --- jobs ----------------------------------------------------------------------------------


class JobsView(View):
    sort: JobSort = "updatedAt"
    order: Order = "desc"
    q: str | None = Field(None, max_length=200)
    company: str | None = Field(None, max_length=500)
    location: str | None = Field(None, max_length=500)
    type: str | None = Field(None, max_length=200)
    category: str | None = Field(None, max_length=500)
    source: str | None = Field(None, max_length=200)
    feed: str | None = Field(None, max_length=2048)
    status: JobStatus | None = None  # None: active and expired

    def sort_link(self, column: str) -> tuple[str, str]:
        if column == self.sort:
            aria = "descending" if self.order == "desc" else "ascending"
            return self.href(sort=column, order="asc" if self.order == "desc" else "desc"), aria
        first = "asc" if column in ("title", "company") else "desc"
        return self.href(sort=column, order=first), "none"

    def job_query(self) -> JobQuery:
        return JobQuery(
            text=self.q or None,
            status=self.status,
            source=self.source or None,
            feed_url=self.feed or None,
            company=self.company or None,
            location=self.location or None,
            job_type=self.type or None,
            category=self.category or None,
            sort=JOB_SORTS[self.sort],
            descending=self.order == "desc",
            limit=self.limit,
            offset=self.offset,
        )

    @property
    def filtered(self) -> bool:
        fields = (self.q, self.company, self.location, self.type, self.category, self.source)
        return any(fields) or bool(self.feed or self.status)


# --- feeds ---------------------------------------------------------------------------------

FeedSort = Literal["url", "lastRunAt", "lastSuccessAt", "consecutiveFailures", "nextRunAt"]


class FeedsView(View):
    sort: FeedSort | None = None  # None: configuration order
    order: Order = "asc"
    limit: int = Field(100, ge=1, le=100)

    def sort_link(self, column: str) -> tuple[str, str]:
        if column == self.sort:
            aria = "descending" if self.order == "desc" else "ascending"
            return self.href(sort=column, order="asc" if self.order == "desc" else "desc"), aria
        first = "desc" if column == "consecutiveFailures" else "asc"
        return self.href(sort=column, order=first), "none"


class FailuresView(View):
    """The failed items of one run, paged."""

    limit: int = Field(50, ge=1, le=100)
