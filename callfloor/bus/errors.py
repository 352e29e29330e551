"""Errors raised by the event bus adapter."""

from __future__ import annotations

__all__ = ["BusError"]


class BusError(Exception):
    """The bus could not do what was asked: a broker would not start, or a subscription broke."""
