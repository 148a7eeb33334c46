"""Connectionist temporal classification (CTC) in log space."""

__all__: list = []
