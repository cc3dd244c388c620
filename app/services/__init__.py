"""Domain services: query building and writes. They flush, never commit."""
