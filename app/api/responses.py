"""Response classes every capability's routes share."""

from typing import Any

from fastapi.responses import JSONResponse

from app.geojson import GEOJSON_MEDIA_TYPE


class GeoJSONResponse(JSONResponse):
    """GeoJSON already serialised by PostGIS: the text goes out untouched."""

    media_type = GEOJSON_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        if isinstance(content, str):
            return content.encode()
        if isinstance(content, bytes):
            return content
        return super().render(content)
