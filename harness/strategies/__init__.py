"""Strategies: one protocol for the frozen model, River learners and continuous refinement."""

from harness.strategies.base import BaseStrategy, Strategy

__all__ = ["BaseStrategy", "Strategy"]
