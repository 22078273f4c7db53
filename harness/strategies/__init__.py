"""Strategies: one protocol for the frozen model, River learners and continuous refinement."""

from harness.strategies.base import Strategy

__all__ = ["Strategy"]
