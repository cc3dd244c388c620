"""Complaints (denuncias): ingest, GeoJSON queries, statistics, routes and commands."""
