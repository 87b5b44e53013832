"""``GET /cameras``: the camera registry, for admins (docs/decisions.md#camera-registry)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from alpr_core.api.audit import audited
from alpr_core.api.deps import AdminKey, resources_of
from alpr_core.api.problems import problem_responses
from alpr_core.api.schemas import CameraEntry, CameraList
from alpr_core.api.statements import fetch_rows
from alpr_core.db.cameras import visible_cameras_query

router = APIRouter(prefix="/cameras", tags=["cameras"])


@router.get(
    "",
    response_model=CameraList,
    summary="List registered cameras (admin keys only)",
    responses=problem_responses(401, 403),
)
async def list_cameras(request: Request, key: AdminKey) -> CameraList:
    """By site, then camera id; an admin limited to sites or cameras sees only those. The read
    is audited in the same statement."""
    query, params = audited(
        *visible_cameras_query(key), key, request, order_by="site_id, camera_id"
    )
    async with resources_of(request).pool.connection() as conn:
        rows = await fetch_rows(conn, query, params, prepared=False)
    return CameraList(items=[CameraEntry(**row) for row in rows])
