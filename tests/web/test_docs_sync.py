"""The API and events docs stay true: docs/api.md documents exactly the route table, and
docs/events.md exactly the event types of events/types.py and the fields each carries."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from jobimport.events import types
from jobimport.models import ImportRun, RunStatus
from jobimport.web.api.routes import ROUTES

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_api_md_documents_exactly_the_route_table() -> None:
    text = (DOCS / "api.md").read_text()
    documented = re.findall(r"^### `(GET|POST|PUT|PATCH|DELETE) (\S+)`", text, flags=re.M)
    assert len(documented) == len(set(documented)), "an endpoint is documented twice"
    assert set(documented) == {(route.method, route.path) for route in ROUTES}


def test_api_md_names_every_query_parameter() -> None:
    text = (DOCS / "api.md").read_text()
    sections = re.split(r"^### ", text, flags=re.M)
    for route in ROUTES:
        (section,) = [s for s in sections if s.startswith(f"`{route.method} {route.path}`")]
        for name in route.query.model_fields:
            assert f"`{name}`" in section, (route.path, name)


def event_types() -> set[str]:
    return {
        cls.type
        for cls in vars(types).values()
        if isinstance(cls, type) and issubclass(cls, types.RunEvent) and cls is not types.RunEvent
    }


def test_events_md_documents_exactly_the_event_types() -> None:
    text = (DOCS / "events.md").read_text()
    documented = set(re.findall(r"^### `([a-z]+\.[a-z]+)`", text, flags=re.M))
    assert documented == event_types()


def test_events_md_documents_every_field_of_an_event() -> None:
    text = (DOCS / "events.md").read_text()
    run = ImportRun(
        id="0" * 24, feed_url="https://x.test/", status=RunStatus.QUEUED,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    payload = types.RunQueued(run).to_json()
    table = set(re.findall(r"^\| `([A-Za-z.]+)` \|", text, flags=re.M))
    expected = set(payload) | {f"run.{key}" for key in payload["run"]}
    assert table == expected
