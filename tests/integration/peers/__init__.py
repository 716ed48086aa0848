"""Loopback stand-ins and helpers for the delivery tests (tests/integration/notify_*.py)."""
