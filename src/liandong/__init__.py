"""Liandong (链动): an open, auditable incentive engine for social commerce."""

__version__ = "0.1.0"
