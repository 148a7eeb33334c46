"""Catalog entries: CTCLoss."""

ENTRIES: list = []
