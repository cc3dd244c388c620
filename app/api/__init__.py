"""The HTTP shell every capability shares: app assembly (`routers`), dependencies, problem+json,
limits, request ids, security headers, OpenAPI, common parameters and responses.
"""
