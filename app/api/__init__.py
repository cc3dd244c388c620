"""HTTP layer: thin routes that parse, call a service and return."""

from fastapi import APIRouter

from app.api import (
    access,
    audit,
    categories,
    complaints,
    ogc,
    projects,
    public,
    rankings,
    reports,
    risk_factors,
    territory,
    tiles,
    webhooks,
)

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(access.router)
api_router.include_router(territory.router)
api_router.include_router(categories.router)
api_router.include_router(complaints.router)
api_router.include_router(risk_factors.router)
api_router.include_router(projects.router)
api_router.include_router(webhooks.router)
api_router.include_router(rankings.router)
api_router.include_router(reports.router)
api_router.include_router(audit.router)
api_router.include_router(public.router)

ogc_router = ogc.router
ogc_router.include_router(tiles.router)
