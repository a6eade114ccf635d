"""Periodic jobs of the outbox (the worker's outbox loop does the prompt work)."""
