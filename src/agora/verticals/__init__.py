"""Verticals: what one kind of marketplace adds on top of the general engine."""
