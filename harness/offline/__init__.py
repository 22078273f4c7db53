"""Pre-deployment optimisation: search on a static validation split, train, calibrate, freeze, export."""

from harness.offline.freeze import Pretrained, export, optimise_and_freeze

__all__ = ["Pretrained", "export", "optimise_and_freeze"]
