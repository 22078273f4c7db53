"""One look per strategy in every figure: a fixed colour per name, a line style and marker per family.

The family is what the strategy's class declares (its tag ``family``: ``static``, ``river``,
``continuous`` or ``other``), read from the results, never from the name: each run's
``summary.csv`` has a ``family`` column, and :func:`read_families` takes it from a results table
before a figure is drawn (a name no table has declared is drawn as ``other``). A name outside the
colour map gets a colour derived from its text, so it too looks the same in every figure.

>>> import pandas as pd
>>> read_families(pd.DataFrame({"strategy": ["frozen", "river_hat"], "family": ["static", "river"]}))
>>> family("frozen"), family("river_hat"), family("never_read")
('static', 'river', 'other')
>>> color("river_logreg") == color("river_logreg") and color("frozen") != color("finetune")
True
"""

from __future__ import annotations

import colorsys
import hashlib

# Distinct hues (Trubetskoy's 20 distinct colours, the light ones dropped): every strategy of
# conf/strategy/ can share one figure (the cost study draws 15 of the 21).
STRATEGY_COLORS = {
    "frozen": "#000000",
    "frozen_ensemble": "#911eb4",
    "frozen_uncalibrated": "#9a6324",
    "finetune": "#e6194b",
    "retrain_periodic": "#f032e6",
    "retrain_triggered": "#f58231",
    "river_logreg": "#4363d8",
    "river_gnb": "#42d4f4",
    "river_ht": "#3cb44b",
    "river_hat": "#469990",
    "river_arf": "#808000",
    "river_knn": "#800000",
    "river_adwin_bagging": "#000075",
    "river_lev_bagging": "#d4a000",
    "river_text_nb": "#00a087",
    "river_text_logreg": "#7b5cd6",
    "no_change": "#a9a9a9",
    "majority": "#ff8fb0",
    "retrain_on_alarm": "#ffe119",
    "oracle": "#5c5c5c",
    "oracle_switch": "#bfef45",
}
# Classes in stream figures: a separate set (ColorBrewer Set2), never a strategy's colour.
CLASS_COLORS = ["#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854", "#ffd92f", "#e5c494", "#b3b3b3"]
# family -> (seaborn dash pattern, matplotlib linestyle, marker); dashes survive greyscale print
FAMILY_STYLE = {
    "static": ("", "-", "s"),
    "river": ((4, 1.5), (0, (4, 1.5)), "o"),
    "continuous": ((6, 1.5, 1.5, 1.5), (0, (6, 1.5, 1.5, 1.5)), "^"),
    "other": ((1, 1.5), (0, (1, 1.5)), "D"),
}


# strategy name -> family, as the results read so far declare it (read_families)
_FAMILIES: dict[str, str] = {}


def read_families(table) -> None:
    """Note each strategy's family from a results table with ``strategy`` and ``family`` columns
    (a run's ``summary.csv``, the study's ``runs``); a table without ``family`` (results written
    before the column existed) adds nothing. A family outside ``FAMILY_STYLE`` is drawn as ``other``."""
    if "family" not in getattr(table, "columns", ()):
        return
    for name, declared in zip(table["strategy"], table["family"]):
        _FAMILIES[str(name)] = declared if declared in FAMILY_STYLE else "other"


def family(name: str) -> str:
    """``static``, ``river``, ``continuous`` or ``other``: the family the results declared for ``name``."""
    return _FAMILIES.get(name, "other")


def color(name: str) -> str:
    """The strategy's colour; an unknown name gets a hue hashed from its text (same in every run)."""
    if name in STRATEGY_COLORS:
        return STRATEGY_COLORS[name]
    hue = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "#%02x%02x%02x" % tuple(round(255 * c) for c in colorsys.hls_to_rgb(hue, 0.4, 0.7))


def order(names) -> list[str]:
    """Strategy names in legend order: the map's order (family by family), unknown names last, sorted."""
    names = set(names)
    return [n for n in STRATEGY_COLORS if n in names] + sorted(names - set(STRATEGY_COLORS))


def dashes(name: str):
    return FAMILY_STYLE[family(name)][0]


def linestyle(name: str):
    return FAMILY_STYLE[family(name)][1]


def marker(name: str) -> str:
    return FAMILY_STYLE[family(name)][2]


def class_color(k: int) -> str:
    return CLASS_COLORS[int(k) % len(CLASS_COLORS)]
