"""``GET /plates/{plate_id}/pass``: the vehicle pass a read belongs to and the pass's reads, inside
the key's scope, audited as ``/plates/{plate_id}`` is (docs/decisions.md#passes)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from alpr_core.api.audit import record_query
from alpr_core.api.deps import ReaderKey, resources_of
from alpr_core.api.problems import Problem, problem_responses
from alpr_core.api.routes.passes import PassSummary, pass_summary
from alpr_core.api.routes.plates import PlateId, summaries, visible_row
from alpr_core.api.schemas import PlateSummary
from alpr_core.api.statements import fetch_rows
from alpr_core.db.pass_views import pass_reads_query, read_pass_query
from alpr_core.passes.grouping import read_keys

router = APIRouter(prefix="/plates", tags=["passes"])
MAX_READS = 200


class ReadPass(BaseModel):
    vehicle_pass: PassSummary | None = Field(
        description="The pass; null when passes are not kept, or not yet for this read."
    )
    reads: list[PlateSummary] = Field(
        description=f"The pass's reads, oldest first, at most {MAX_READS}; the read alone when"
        " there is no pass."
    )


@router.get(
    "/{plate_id}/pass",
    response_model=ReadPass,
    responses=problem_responses(401, 403, 404, 422),
    summary="The vehicle pass of a read, with its reads",
)
async def read_pass(request: Request, key: ReaderKey, plate_id: PlateId) -> ReadPass:
    """The pass at the read's camera whose span holds the read and which holds the read's track
    or plate; its reads are those at that camera, in that span, with one of its tracks or
    plates."""
    resources = resources_of(request)
    async with resources.pool.connection() as conn:
        read = await visible_row(conn, key, plate_id)
        if read is None:
            await record_query(conn, key, request, 404, 0)
            raise Problem(404, "Not found", f"There is no plate read {plate_id}.")
        own_keys = list(read_keys(read["track_id"], read["plate_normalized"]))
        query, params = read_pass_query(key, read["camera_id"], read["timestamp"], own_keys)
        found = await fetch_rows(conn, query, params, prepared=False)
        if found:
            row = found[0]
            query, params = pass_reads_query(
                key,
                row["camera_id"],
                row["first_seen"],
                row["last_seen"],
                list(row["keys"]),
                MAX_READS,
            )
            reads = await fetch_rows(conn, query, params, prepared=False)
        else:
            reads = [read]
        await record_query(conn, key, request, 200, len(reads))
    vehicle_pass = pass_summary(found[0], request) if found else None
    return ReadPass(
        vehicle_pass=vehicle_pass,
        reads=[PlateSummary.model_validate(r) for r in summaries(reads, resources.edge_uploads)],
    )
