"""Jobs: what became of each write."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from journeychain.errors import NotFoundError
from journeychain.service.deps import Caller, Running
from journeychain.service.models import JobOut

router = APIRouter(tags=["jobs"])


@router.get("/jobs/{job_id}", summary="A job", response_model=JobOut)
def read_job(job_id: str, svc: Running, who: Caller) -> dict[str, Any]:
    """The job's state: queued, sent (its transaction hashes recorded), mined (with the events),
    refused (with the rule's sentence) or failed."""
    job = svc.store.job(job_id)
    if job is None or job.integration != who.name:
        raise NotFoundError(f"there is no job {job_id} of integration {who.name!r}")
    return job.public()


@router.get("/jobs", summary="Recent jobs", response_model=list[JobOut])
def list_jobs(
    svc: Running,
    who: Caller,
    state: Annotated[str | None, Query(description="queued, sent, mined, refused or failed")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The integration's jobs, newest first."""
    return [j.public() for j in svc.store.jobs(svc.key, state, limit) if j.integration == who.name]
