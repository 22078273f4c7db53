"""The figures of a study report, the one list of them: :mod:`harness.figures.study` draws them, and
the command line, the sweep's options and the report's process check names against this list. It
imports nothing, so that a bad name is refused before anything is read, written or imported."""

FIGURES = (
    "accuracy_over_time",
    "confident_errors_over_time",
    "memory_over_time",
    "drift_induced_error",
    "label_budget",
    "severity_boxes",
    "confidence_curves",
    "reliability",
    "cost_tradeoff",
    "pipeline_faults",
    "pipeline_detection",
)
