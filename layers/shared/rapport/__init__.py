"""Rapport: build real relationships with specific people on X, one suggestion at a time."""

__version__ = "0.1.0"
