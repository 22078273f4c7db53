"""The run pipeline: a run's stages (``experiment``), the one prequential loop (``replay``), its tables
(``tables``, ``summary``) and ``result.json`` (``record``), a job's rules (``jobs``), sweeps and the
public API (``api``)."""
