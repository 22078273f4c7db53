"""Drift harness: what freezing a model before deployment costs once the data drifts."""

__version__ = "0.1.0"
