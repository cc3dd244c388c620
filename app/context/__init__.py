"""Context layers: places that attract or enable crime, for the risk-terrain model."""
