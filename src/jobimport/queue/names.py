"""Task names and deterministic job ids: a retry or redelivery of the same work is the same job."""

from __future__ import annotations

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
