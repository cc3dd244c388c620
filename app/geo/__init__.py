"""Pure geometry code: no FastAPI, no database. Reused by every layer that reads GeoJSON."""
