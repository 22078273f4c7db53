"""Streams whose drift is known exactly (synthetic families, River's generators, real data with
induced shift), tables of real data with their own, natural drift (a user's file, NOAA weather), and
a user's own :class:`Stream` subclass (``stream=custom stream._target_=...``).
:func:`build_stream` checks every value before anything is drawn.
The public names load their modules on first use: importing one stream module, or
:mod:`harness.streams.view`, loads no other family."""

from harness import lazy_names

_PUBLIC = {
    **dict.fromkeys(("KINDS", "PATTERNS", "DeployData", "DriftSchedule", "OfflineData", "deploy_data", "split_offline"),
                    "harness.streams.base"),
    **dict.fromkeys(("CUSTOM", "FAMILIES"), "harness.streams.families"),
    **dict.fromkeys(("Stream", "parameters"), "harness.streams.stream"),
    "build_stream": "harness.streams.build",
}
__all__ = sorted(_PUBLIC)
__getattr__, __dir__ = lazy_names(__name__, _PUBLIC)
