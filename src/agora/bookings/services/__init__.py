"""Booking writes: holds and rescheduling (holds.py), the lifecycle with its payments
(lifecycle.py), and the vendor's schedule, resources and blocks (setup.py)."""
