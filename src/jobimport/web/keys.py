"""Every key of the app's and the requests' storage. Typed `AppKey`s only: string keys are
deprecated in aiohttp 3.14 and untyped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp_sse import EventSourceResponse

from jobimport.runtime import Events, Processing, QueueHandle, Role, Services, StoreHealth
from jobimport.settings import Settings
from jobimport.store.base import Store
from jobimport.web.telemetry import Metrics

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
ROLE: web.AppKey[Role] = web.AppKey("role")
STARTED_AT: web.AppKey[datetime] = web.AppKey("started_at")
STORE: web.AppKey[Store] = web.AppKey("store")
STORE_HEALTH: web.AppKey[StoreHealth] = web.AppKey("store_health")
SESSION: web.AppKey[aiohttp.ClientSession] = web.AppKey("session")
EVENTS: web.AppKey[Events] = web.AppKey("events")
QUEUE: web.AppKey[QueueHandle] = web.AppKey("queue")
SERVICES: web.AppKey[Services] = web.AppKey("services")
PROCESSING: web.AppKey[Processing] = web.AppKey("processing")
STREAMS: web.AppKey[set[EventSourceResponse]] = web.AppKey("streams")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
OPENAPI: web.AppKey[dict[str, Any]] = web.AppKey("openapi")
ASSET_VERSIONS: web.AppKey[dict[str, str]] = web.AppKey("asset_versions")
"""Static file name → short content hash, for cache-busting URLs (admin/render.py)."""

REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id")
