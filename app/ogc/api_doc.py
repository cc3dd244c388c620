"""The OpenAPI document of the OGC API alone, with paths relative to its landing page.

OGC API - Features (Part 1, /req/oas30) reads the API definition relative to the landing
page: `/collections/{collectionId}/items`, with `servers` pointing at `/ogc`. Clients look
operations up by those literal paths; GDAL's OAPIF driver, for one, reads the `limit`
parameter's `maximum` there to choose its page size (10 otherwise: 1,000 requests for
10,000 features). Vigía's own /openapi.json keeps the full service under absolute paths;
this is the same document, filtered and re-rooted, never a second source of truth.
"""

from __future__ import annotations

import copy
from typing import Any

PREFIX = "/ogc"
MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
# FastAPI's parameter names, and the spelling of the OGC standard's own OpenAPI fragments
RENAMED = {"collection_id": "collectionId", "feature_id": "featureId"}


def _rename(path: str) -> str:
    for ours, theirs in RENAMED.items():
        path = path.replace("{" + ours + "}", "{" + theirs + "}")
    return path


def ogc_openapi(spec: dict[str, Any], base_url: str) -> dict[str, Any]:
    """`spec`'s /ogc operations, rooted at `base_url` (the landing page's absolute URL)."""
    paths: dict[str, Any] = {}
    for path, operations in spec.get("paths", {}).items():
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            continue
        operations = copy.deepcopy(operations)
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path":
                    parameter["name"] = RENAMED.get(parameter["name"], parameter["name"])
        paths[_rename(path[len(PREFIX) :]) or "/"] = operations
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": spec.get("components", {}),
    }
