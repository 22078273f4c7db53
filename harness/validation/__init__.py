"""The one validation layer: the typed schemas, the per-key rules derived from them, the
cross-checks and the `_target_` walker, all run before anything is built or written."""
