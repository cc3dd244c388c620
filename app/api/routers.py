"""Every capability's routes, assembled under `/api/v1` and `/ogc`."""

from app.activities import routes as activities
from app.api.routing import PrefixedRouter
from app.audit import routes as audit
from app.categories import routes as categories
from app.complaints import routes as complaints
from app.context import routes as context
from app.council import routes as council
from app.geocoding import routes as geocoding
from app.identity import routes as access
from app.near_repeat import routes as near_repeat
from app.ogc import routes as ogc
from app.ogc import tile_routes as tiles
from app.privacy import routes as public
from app.rankings import routes as rankings
from app.reports import plan_routes as plan
from app.reports import routes as reports
from app.risk_factors import routes as risk_factors
from app.risk_factors.projects import routes as projects
from app.risk_factors.webhooks import routes as webhooks
from app.risk_terrain import routes as risk_terrain
from app.territory import routes as territory

api_router = PrefixedRouter(prefix="/api/v1")
api_router.include_router(access.router)
api_router.include_router(territory.router)
api_router.include_router(categories.router)
api_router.include_router(geocoding.router)  # before complaints: /complaints/unplaced
api_router.include_router(complaints.router)
api_router.include_router(risk_factors.router)
api_router.include_router(context.router)
api_router.include_router(projects.router)
api_router.include_router(webhooks.router)
api_router.include_router(rankings.router)
api_router.include_router(near_repeat.router)
api_router.include_router(risk_terrain.router)
api_router.include_router(reports.router)
api_router.include_router(council.router)
api_router.include_router(activities.router)
api_router.include_router(plan.router)
api_router.include_router(audit.router)
api_router.include_router(public.router)

ogc_router = ogc.router
ogc_router.include_router(tiles.router)
