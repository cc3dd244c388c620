"""Rankings wired to the database: aggregate per unit and period, score, store, publish.

The statistics live in `app.scoring` (pure); this package feeds it one set-based SQL
aggregation per level and period (`inputs`), stores reproducible snapshots (`store`),
recomputes them from their stored inputs (`verify`) and renders JSON, GeoJSON and CSV
(`outputs`).

The names load on first use (PEP 562), so `app.rankings.wording` (the phrases the bulletin
prints) comes without the ranking's statistics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.lazy import lazy_exports

if TYPE_CHECKING:
    from app.rankings.compute import compute_snapshot, default_period_end
    from app.rankings.profiles import create_profile_version, get_profile, list_profiles
    from app.rankings.store import RankingNotFound, get_snapshot, latest_snapshot
    from app.rankings.verify import verify_snapshot

_HOME = {
    "compute_snapshot": "app.rankings.compute",
    "default_period_end": "app.rankings.compute",
    "create_profile_version": "app.rankings.profiles",
    "get_profile": "app.rankings.profiles",
    "list_profiles": "app.rankings.profiles",
    "RankingNotFound": "app.rankings.store",
    "get_snapshot": "app.rankings.store",
    "latest_snapshot": "app.rankings.store",
    "verify_snapshot": "app.rankings.verify",
}


__getattr__ = lazy_exports(__name__, _HOME)


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
