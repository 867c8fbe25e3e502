"""Fixtures shared by every test: fixture paths, settings that allow loopback feeds, the `feeds`
server on loopback and the shared Redis; and the markers `redis` and `browser`, set here from what a
test uses (`make test-fast` deselects them, with `slow`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import pytest
from hypothesis import settings as hypothesis_settings

from jobimport.settings import Settings, load_settings
from tests.feedserver import FeedServer
from tests.support import REDIS_URL

DATA = Path(__file__).parent / "data"

# `make test-fast` runs hypothesis under this profile (--hypothesis-profile=fast): a fifth of the
# examples of the default profile, which `make test` keeps; tests that set their own count scale
# it with tests.support.examples.
hypothesis_settings.register_profile("fast", max_examples=20)


class _TemplateCodeCache(jinja2.BytecodeCache):
    """Compiled templates in memory, for every app of the test process (keyed on the source)."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


@pytest.fixture(scope="session", autouse=True)
def _app_fixed_costs_once() -> Iterator[None]:
    """A few hundred tests create an app; what create_app derives from the code alone is derived
    once per test process: the OpenAPI document of the route table (a tenth of a second; only
    read; tests/web/test_openapi.py checks build_openapi itself) and the compiled templates (a
    jinja2 bytecode cache shared by the apps' template environments)."""
    import aiohttp_jinja2

    from jobimport.web import app

    code_cache = _TemplateCodeCache()
    setup = aiohttp_jinja2.setup

    def setup_with_cache(*args: Any, **kwargs: Any) -> jinja2.Environment:
        return setup(*args, bytecode_cache=code_cache, **kwargs)

    build = app.build_openapi
    built: dict[int, tuple[object, dict[str, Any]]] = {}  # id(routes) → (routes, document)

    def build_once(routes: Any) -> dict[str, Any]:
        if id(routes) not in built:
            built[id(routes)] = (routes, build(routes))
        return built[id(routes)][1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app, "build_openapi", build_once)
        patch.setattr(aiohttp_jinja2, "setup", setup_with_cache)
        yield


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for tests: a fresh SQLite file, loopback feeds allowed, nothing read from the
    developer's environment by surprise (explicit overrides win)."""

    def make(**overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "database_url": f"sqlite:///{tmp_path / 'jobimport.db'}",
            "feeds": (),
            "allow_private_addresses": True,
            "fetch_connect_timeout_s": 2.0,
            "fetch_read_timeout_s": 2.0,
            "fetch_timeout_s": 10.0,
        }
        base.update(overrides)
        return load_settings(**base)

    return make


@pytest.fixture
async def feeds(aiohttp_server: Any) -> FeedServer:
    """A FeedServer on 127.0.0.1 (documents, scripted answers, gates, recorded requests)."""
    return await FeedServer.start(aiohttp_server)


@pytest.fixture
def redis_url() -> str:
    """The shared Redis (JOBIMPORT_TEST_REDIS_URL); a test that uses it is marked `redis`."""
    return REDIS_URL


# A test is marked `redis` when it uses one of these fixtures or runs with one of these parameter
# values (the `arq` queue kind, the `redis` event bus); `browser` when it uses the browser.
REDIS_FIXTURES = frozenset({"redis_url", "private_redis"})
REDIS_PARAMS = frozenset({"arq", "redis"})
BROWSER_FIXTURES = frozenset({"browser"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        params = {v for v in callspec.params.values() if isinstance(v, str)} if callspec else set()
        if fixtures & REDIS_FIXTURES or params & REDIS_PARAMS:
            item.add_marker(pytest.mark.redis)
        if fixtures & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
