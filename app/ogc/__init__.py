"""OGC API - Features (Part 1 Core, Part 3 CQL2) over Vigía's layers."""
