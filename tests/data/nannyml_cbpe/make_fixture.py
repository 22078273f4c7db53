"""NannyML's own CBPE accuracy estimates on the inputs ``make_inputs.py`` wrote, per chunk of the
monitor's window: ``NAME_nannyml.csv`` (``start_index``, ``end_index``, ``estimated_accuracy``).

Runs in a separate venv with NannyML (it does not install beside the harness's stack):
``python3 -m venv /tmp/nannyml-venv && /tmp/nannyml-venv/bin/pip install nannyml==0.13.1 pyarrow
statsmodels``, then ``/tmp/nannyml-venv/bin/python tests/data/nannyml_cbpe/make_fixture.py NAME``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nannyml
import pandas as pd

HERE = Path(__file__).parent


def main(name: str) -> None:
    reference = pd.read_csv(HERE / f"{name}_reference.csv")
    analysis = pd.read_csv(HERE / f"{name}_analysis.csv")
    window = json.loads((HERE / f"{name}_inputs.json").read_text())["window"]
    classes = sorted(c for c in reference.columns if c.startswith("p_"))
    binary = len(classes) == 2
    estimator = nannyml.CBPE(
        problem_type="classification_binary" if binary else "classification_multiclass",
        y_pred_proba="p_1" if binary else {int(c[2:]): c for c in classes},
        y_pred="y_pred",
        y_true="y_true",
        metrics=["accuracy"],
        chunk_size=window,  # SizeBasedChunker, incomplete="keep": the last, shorter chunk is kept
    )
    estimator.fit(reference)
    result = estimator.estimate(analysis).filter(period="analysis").to_df()
    out = pd.DataFrame({
        "start_index": result[("chunk", "start_index")].to_numpy(),
        "end_index": result[("chunk", "end_index")].to_numpy(),  # inclusive, as NannyML gives it
        "estimated_accuracy": result[("accuracy", "value")].to_numpy(),
    })
    out.to_csv(HERE / f"{name}_nannyml.csv", index=False)
    print(f"{name}: nannyml {nannyml.__version__}, {len(out)} chunks of {window}")


if __name__ == "__main__":
    main(sys.argv[1])
