"""Complaints (denuncias): ingest, GeoJSON queries and statistics."""

from app.services.complaints.ingest import ImportMode, ImportReport, import_complaints

__all__ = ["ImportMode", "ImportReport", "import_complaints"]
