"""Catalog entries: classification losses."""

ENTRIES: list = []
