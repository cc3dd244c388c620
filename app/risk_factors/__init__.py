"""Police-reported urban risk factors: catalog, submission, lifecycle, projects, queries."""
