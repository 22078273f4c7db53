"""The run pipeline: the public API, the one prequential loop, a run's summary tables, sweeps."""
