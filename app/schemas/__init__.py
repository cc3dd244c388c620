"""Pydantic schemas of the public API (requests and responses), separate from the ORM."""
