"""Open311 GeoReport v2 over the risk-factor catalog and lifecycle."""
