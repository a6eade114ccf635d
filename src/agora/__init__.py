"""Agora: an open-source multi-vendor marketplace engine."""

__version__ = "0.1.0"
