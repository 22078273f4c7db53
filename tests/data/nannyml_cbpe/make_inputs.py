"""Write the inputs of the NannyML CBPE fixture from a real run of the harness (harness venv):
``python tests/data/nannyml_cbpe/make_inputs.py NAME [OVERRIDE ...]``.

``NAME_reference.csv``: the frozen model on the offline validation split (``y_true``, ``p_0`` ..
``p_{K-1}`` calibrated probabilities, ``y_pred`` their argmax): the monitor's reference.
``NAME_analysis.csv``: the same model on the deployment stream (``p_*``, ``y_pred``; no label).
``NAME_inputs.json``: the overrides and the monitor window (NannyML's chunk size).

The frozen model comes from the offline cache a run of the same overrides filled
(``python -m harness.run OVERRIDES``), so it is that run's model; the analysis ``y_pred`` is checked
against the run's ``predictions.parquet`` when its directory is given as ``--run DIR``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from harness.offline.cache import pretrain
from harness.offline.outputs import model_outputs
from harness.pipeline.api import compose
from harness.pipeline.experiment import offline_settings, seed_everything
from harness.validation.preflight import preflight

HERE = Path(__file__).parent


def frame(proba: np.ndarray, **columns) -> pd.DataFrame:
    probabilities = {f"p_{k}": np.round(proba[:, k], 9) for k in range(proba.shape[1])}
    return pd.DataFrame({**columns, **probabilities, "y_pred": proba.argmax(axis=1)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name")
    parser.add_argument("overrides", nargs="*")
    parser.add_argument("--run", type=Path, help="the run's directory, to check its served predictions")
    args = parser.parse_args()
    cfg = compose(args.overrides)
    stream, _ = preflight(cfg)
    seed_everything(cfg.seed, cfg.threads)
    offline = stream.offline()
    with tempfile.TemporaryDirectory() as tmp:
        pretrained, state = pretrain(offline, n_classes=stream.n_classes, settings=offline_settings(cfg),
                                     cache_dir=Path(cfg.offline.cache_dir), export_to=Path(tmp) / "model.pt2")
    deploy = stream.deploy()
    reference = model_outputs(pretrained.module, offline.X_val)
    analysis = model_outputs(pretrained.module, deploy.X)
    # rounded to 9 decimals for a small file; the argmax is of the written values
    reference_frame = frame(reference.proba, y_true=offline.y_val)
    analysis_frame = frame(analysis.proba)
    if args.run is not None:
        served = pd.read_parquet(args.run / "predictions.parquet").query("strategy == 'frozen'")
        assert np.array_equal(served.y_pred.to_numpy(), analysis_frame.y_pred.to_numpy()), "not the run's model"
    reference_frame.to_csv(HERE / f"{args.name}_reference.csv", index=False)
    analysis_frame.to_csv(HERE / f"{args.name}_analysis.csv", index=False)
    window = cfg.monitor.window if cfg.monitor.window is not None else cfg.metrics.window
    record = {"overrides": args.overrides, "window": window, "offline_cache": state}
    (HERE / f"{args.name}_inputs.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"{args.name}: {len(reference_frame)} reference, {len(analysis_frame)} analysis rows, cache {state}")


if __name__ == "__main__":
    main()
