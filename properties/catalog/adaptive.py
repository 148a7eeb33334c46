"""Catalog entries: AdaptiveLogSoftmaxWithLoss."""

ENTRIES: list = []
