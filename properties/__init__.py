"""Conformance properties: the catalog of torch.nn classes, Hypothesis strategies,
and one test file per check kind."""
