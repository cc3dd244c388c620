"""Test factories, one module per subject; every factory is named `make_*`.

keys: API keys and their headers (`Keys`: one per role; the `keys` fixture in conftest).
risk: risk-factor reports through the API. tables: rows written straight to the tables with
chosen dates (reports). complaints: complaint bodies and files. images: real images.
"""
