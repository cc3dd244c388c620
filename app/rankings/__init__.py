"""Rankings wired to the database: aggregate per unit and period, score, store, publish.

The statistics live in `app.scoring` (pure); this package feeds it one set-based SQL
aggregation per level and period (`inputs`), stores reproducible snapshots (`store`),
recomputes them from their stored inputs (`verify`) and renders JSON, GeoJSON and CSV
(`outputs`).
"""

from app.rankings.compute import compute_snapshot, default_period_end
from app.rankings.profiles import create_profile_version, get_profile, list_profiles
from app.rankings.store import RankingNotFound, get_snapshot, latest_snapshot
from app.rankings.verify import verify_snapshot

__all__ = [
    "RankingNotFound",
    "compute_snapshot",
    "create_profile_version",
    "default_period_end",
    "get_profile",
    "get_snapshot",
    "latest_snapshot",
    "list_profiles",
    "verify_snapshot",
]
