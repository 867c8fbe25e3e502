"""Task names and deterministic job ids: a retry or redelivery of the same work is the same job."""

from __future__ import annotations

from typing import Literal

FETCH = "jobimport.fetch"
BATCH = "jobimport.batch"
TICK = "jobimport.tick"


def fetch_job_id(run_id: str) -> str:
    return f"run:{run_id}:fetch"


def batch_job_id(run_id: str, n: int) -> str:
    return f"run:{run_id}:batch:{n}"


def tick_job_name(queue_name: str) -> str:
    """The tick's arq cron name on this queue; its job ids are `<name>:<slot time in ms>`."""
    return f"{TICK}:{queue_name}"


def health_check_key(queue_name: str) -> str:
    """arq's health-check key of the workers on this queue; it expires if they stop writing it."""
    return f"{queue_name}:health-check"


Kind = Literal["fetch", "batch", "tick", "other"]


KINDS: tuple[Kind, ...] = ("fetch", "batch", "tick", "other")


def kind_of_task(task: str) -> Kind:
    """The kind of a task by its name (names.py); the tick's cron name carries its queue."""
    if task == FETCH:
        return "fetch"
    if task == BATCH:
        return "batch"
    if task == TICK or task.startswith(TICK + ":"):
        return "tick"
    return "other"


def kind_of_job_id(job_id: str) -> Kind:
    """The kind of an arq job by its deterministic id (names.py): `run:<id>:fetch`,
    `run:<id>:batch:<n>`, and the tick's `jobimport.tick:<queue>:<slot ms>`."""
    if job_id.startswith("run:"):
        if job_id.endswith(":fetch"):
            return "fetch"
        if job_id.rpartition(":")[0].endswith(":batch"):
            return "batch"
    if job_id.startswith(TICK + ":"):
        return "tick"
    return "other"
