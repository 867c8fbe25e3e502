"""The queue as it stands: waiting, running, deferred and recently failed tasks by kind."""

from __future__ import annotations

from aiohttp import web

from jobimport.queue.base import QueueUnavailable
from jobimport.queue.snapshot import KindCounts
from jobimport.web import keys
from jobimport.web.api.params import parse_query
from jobimport.web.api.schemas import NoQuery
from jobimport.web.api.schemas_ops import QueueCounts, QueueOut
from jobimport.web.errors import queue_unavailable
from jobimport.web.respond import json_model


def _counts(counts: KindCounts) -> QueueCounts:
    return QueueCounts(
        waiting=counts.waiting,
        running=counts.running,
        deferred=counts.deferred,
        failed=counts.failed,
    )


async def queue_status(request: web.Request) -> web.Response:
    """GET /api/queue: the queue's tasks by kind and the age of the oldest waiting one."""
    parse_query(request, NoQuery)
    try:
        snapshot = await request.app[keys.QUEUE].snapshot()
    except QueueUnavailable as exc:
        raise queue_unavailable(str(exc)) from None
    body = QueueOut(
        backend=snapshot.backend,
        kinds={kind: _counts(counts) for kind, counts in snapshot.kinds.items()},
        totals=_counts(snapshot.total),
        oldestWaitingS=snapshot.oldest_waiting_s,
        failedWindowS=snapshot.failed_window_s,
        exact=snapshot.exact,
    )
    return json_model(body)
