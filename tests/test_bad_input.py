"""Every bad input is refused before any compute, names the key, the value and what is allowed, and
leaves no run output; from the command line with ``error: ...`` on stderr, exit code 2, no traceback.

The lists below are the whole catalogue: ``docs/bad_inputs.md`` is generated from them
(``python -m tests.test_bad_input > docs/bad_inputs.md``) and a test checks that it still is.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hydra.errors import ConfigCompositionException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import report as report_cli
from harness.results import report
from harness.results.figure_names import FIGURES
from harness.run import run
from harness.validation.command_line import check_overrides
from harness.validation.errors import ConfigError
from tests import preloaded
from tests.conftest import TINY, compose_config

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "bad_inputs.md"
TEACHER = "['family', 'n_offline', 'val_fraction', 'n_deploy', 'n_features', 'n_classes', 'hidden', 'gain', "

# (command-line overrides of `python -m harness.run`, on top of the tiny test config; a fragment of
# the message, exactly as the user reads it)
RUN = [
    # top-level keys
    ("seed=-1", "seed=-1 is outside [0, 4294967295]"),
    ("seed=4294967296", "seed=4294967296 is outside [0, 4294967295]"),
    ("seed=100000000000000000000", "seed=100000000000000000000 is outside [0, 4294967295]"),
    ("threads=0", "threads=0 must be >= 1"),
    ("save_stream=2", "save_stream=2 is not a boolean; allowed: true, false"),
    ("quiet=yes", "quiet='yes' is not a boolean; allowed: true, false"),
    ("rerun=1", "rerun=1 is not a boolean; allowed: true, false"),
    ("figures=2", "figures=2 is not a boolean; allowed: true, false"),
    ("+foo=1", "foo is not a key of the configuration; allowed: ['seed', 'save_stream', 'quiet', 'rerun', "),
    ("+sed=3", "sed is not a key of the configuration (did you mean 'seed'?)"),
    # stream: every family
    ("stream.family=elec2", "stream.family='elec2' is not one of ['agrawal', 'bananas', "),
    ("stream.family=teachr", "stream.family='teachr' is not one of ['agrawal', 'bananas', 'gaussian_classes', 'hyperplane', 'led', 'mixed', 'phishing', 'prompts', 'random_rbf', 'sea', 'sine', 'stagger', 'table', 'teacher', 'weather', 'custom'] (did you mean 'teacher'?)"),
    ("+stream.foo=1", "stream.foo is not a key of stream=teacher; allowed: " + TEACHER),
    ("+stream.n_featurs=5", "stream.n_featurs is not a key of stream=teacher (did you mean 'n_features'?)"),
    ("stream.gain=nan", "stream.gain=nan is not a finite number"),
    ("stream.shift_sd=inf", "stream.shift_sd=inf is not a finite number"),
    ("stream.gain=-1", "stream.gain=-1.0 must be >= 0"),
    ("stream.scale=-2", "stream.scale=-2.0 must be > 0"),
    ("stream.shift_sd=-1", "stream.shift_sd=-1.0 must be >= 0"),
    ("stream.novel_distance=-3", "stream.novel_distance=-3.0 must be >= 0"),
    ("stream.novel_spread=-1", "stream.novel_spread=-1.0 must be >= 0"),
    ("stream.novel_share=0", "stream.novel_share=0.0 is outside (0, 1]"),
    ("stream.label_noise=1.5", "stream.label_noise=1.5 is outside [0, 1)"),
    ("stream.n_classes=1", "stream.n_classes=1 must be >= 2"),
    ("stream.n_features=1", "stream.n_features=1 must be >= 2"),
    ("stream.hidden=0", "stream.hidden=0 must be >= 1"),
    ("stream.n_offline=5", "stream.n_offline=5 must be >= 10"),
    ("stream.val_fraction=1.0", "stream.val_fraction=1.0 is outside (0, 1)"),
    ("stream.n_deploy=0", "stream.n_deploy=0 must be >= 1"),
    ("stream.offline_majority=0.2", "stream.offline_majority=0.2 is outside [0.333333, 1)"),
    ("stream.minority_prior=0.9", "stream.minority_prior=0.9 is outside [0, 0.333333]"),
    ("stream.n_deploy=1000000000", "stream.n_deploy=1000000000 needs about 1072 GB of memory (the deployment stream: 1000000000 samples x 10 features x 8 bytes = 80 GB; "),
    ("stream.hidden=1000000000", "stream.hidden=1000000000 needs about 16000 GB of memory (the teacher's hidden layer: 2000 samples x 1000000000 units x 8 bytes = 16000 GB); this machine has"),
    ("stream=gaussian_classes stream.separation=-1", "stream.separation=-1.0 must be >= 0"),
    ("stream=gaussian_classes stream.scale=0", "stream.scale=0.0 must be > 0"),
    ("stream=gaussian_classes stream.offline_majority=nan", "stream.offline_majority=nan is not a finite number"),
    ("stream=gaussian_classes stream.rotation_deg=-inf", "stream.rotation_deg=-inf is not a finite number"),
    ("stream=sea stream.noise=1.0", "stream.noise=1.0 is outside [0, 1)"),
    ("stream=sea stream.concept=7", "stream.concept=7 is not one of [0, 1, 2, 3]"),
    ("stream=sea stream.n_classes=3", "stream.n_classes=3 is fixed at 2 for stream=sea"),
    ("stream=sea +stream.n_features=5", "stream.n_features is not a key of stream=sea; allowed: ['family', 'n_offline', "),
    ("stream=agrawal stream.perturbation=2", "stream.perturbation=2.0 is outside [0, 1]"),
    ("stream=stagger stream.drift_concept=3", "stream.drift_concept=3 is not one of [0, 1, 2]"),
    ("stream=sine stream.concept=-1", "stream.concept=-1 is not one of [0, 1, 2, 3]"),
    ("stream=mixed stream.drift_concept=2", "stream.drift_concept=2 is not one of [0, 1]"),
    ("stream=led stream.n_drift_features=9", "stream.n_drift_features=9 is outside [1, 7]"),
    ("stream=hyperplane stream.n_drift_features=20", "stream.n_drift_features=20 is outside [1, stream.n_features]"),
    ("stream=hyperplane stream.drift_magnitude=-1", "stream.drift_magnitude=-1.0 must be >= 0"),
    ("stream=hyperplane stream.noise_percentage=nan", "stream.noise_percentage=nan is not a finite number"),
    ("stream=random_rbf stream.n_centroids=0", "stream.n_centroids=0 must be >= 1"),
    ("stream=random_rbf stream.n_classes=1", "stream.n_classes=1 must be >= 2"),
    ("stream=phishing stream.quantile=1.0", "stream.quantile=1.0 is outside (0, 1)"),
    ("stream=phishing stream.shift_side=middle", "stream.shift_side='middle' is not one of ['high', 'low']"),
    ("stream=phishing stream.shift_feature=popup", "stream.shift_feature='popup' is not one of ["),
    ("stream=bananas stream.offline_keep=0", "stream.offline_keep=0.0 is outside (0, 1]"),
    # drift
    ("drift.severity=1.7", "drift.severity=1.7 is outside [0, 1]"),
    ("drift.severity=-0.1", "drift.severity=-0.1 is outside [0, 1]"),
    ("drift.severity=nan", "drift.severity=nan is not a finite number"),
    ("drift.kind=banana", "drift.kind='banana' is not one of ['none', 'covariate', 'concept', 'label', 'novel', 'pipeline']"),
    ("drift.kind=concpt", "drift.kind='concpt' is not one of ['none', 'covariate', 'concept', 'label', 'novel', 'pipeline'] (did you mean 'concept'?)"),
    ("drift.pattern=zigzag", "drift.pattern='zigzag' is not one of ['none', 'sudden', 'gradual', 'incremental', 'recurring']"),
    ("drift.transition=foo", "drift.transition='foo' is not one of ['sudden', 'gradual']"),
    ("drift=recurring drift.transition=foo", "drift.transition='foo' is not one of ['sudden', 'gradual']"),
    ("drift.onset=-5", "drift.onset=-5 is outside [0, stream.n_deploy=1200)"),
    ("drift.onset=5000", "drift.onset=5000 is outside [0, stream.n_deploy=1200)"),
    ("drift.width=-5", "drift.width=-5 must be >= 0"),
    ("drift.period=-1", "drift.period=-1 must be >= 0"),
    ("drift=gradual", "drift.onset + drift.width = 2000 exceeds stream.n_deploy=1200"),
    ("drift=recurring drift.period=0", "drift.period=0 must be >= max(1, drift.width=0) for a recurring drift"),
    ("+drift.sevrity=0.5", "drift.sevrity is not a key of drift (did you mean 'severity'?); allowed: ['kind', 'pattern', 'severity', 'onset', 'width', 'period', 'transition', 'fault', 'features']"),
    ("stream=sea drift=incremental", "drift.pattern='incremental' is not supported by stream=sea"),
    ("stream=sea drift=covariate", "drift.kind='covariate' is not supported by stream=sea"),
    # drift.kind=pipeline: faults of the data pipeline
    ("drift=pipeline drift.fault=leak", "drift.fault='leak': 'leak' is not one of ['scale', 'offset', 'missing', 'stuck', 'swap', 'noise']"),
    ("drift=pipeline drift.fault=[scale,scale]", "drift.fault=['scale', 'scale'] names a fault twice; each may be listed once"),
    ("drift=pipeline drift.fault=[]", "drift.fault=[] must be one of ['scale', 'offset', 'missing', 'stuck', 'swap', 'noise'] or a non-empty list of them"),
    ("drift=pipeline drift.fault=null", "drift.kind=pipeline needs drift.fault: one of ['scale', 'offset', 'missing', 'stuck', 'swap', 'noise'] or a list of them"),
    ("drift.fault=scale", "drift.fault='scale' applies only with drift.kind=pipeline (drift.kind='concept'); leave it null"),
    ("drift=pipeline drift.features=[0,10]", "drift.features=[0, 10]: index 10 is outside [0, 10) (stream.n_features=10)"),
    ("drift=pipeline drift.features=[-1]", "drift.features=[-1]: index -1 is outside [0, 10) (stream.n_features=10)"),
    ("drift=pipeline drift.features=[2,x_2]", "drift.features=[2, 'x_2'] names a feature twice; each may be listed once"),
    ("drift=pipeline drift.features=[x_99]", "drift.features=['x_99']: 'x_99' is not a feature name; the names are ['x_0', "),
    ("drift=pipeline drift.features=[]", "drift.features=[] is empty; give at least one value"),
    ("drift=pipeline drift.fault=swap drift.features=[3]", "drift.fault=swap needs at least 2 features to exchange; drift.features=[3] gives 1"),
    ("drift=pipeline drift.fault=missing model.standardize=false", "drift.fault='missing' leaves values missing, which the torch models impute with the offline means inside their input scaler; model.kind='mlp' with model.standardize=False has none: set model.standardize=true"),
    ("stream=prompts model=text drift=pipeline", "drift.kind='pipeline' is not supported by stream=prompts: its rows are token ids, not numeric features a pipeline fault could change; streams that support it: ['agrawal', 'bananas', "),
    # model
    ("model.kind=transformer", "model.kind='transformer' is not one of ['mlp', 'logistic', 'text', 'pretrained']"),
    ("model=text model.vocab=open", "model.vocab='open' is not one of ['closed', 'hashed']"),
    ("model=text model.vocab=hashed model.buckets=0", "model.buckets=0 must be >= 1"),
    ("model.vocab=hashed", "model.vocab='hashed' is only read by model=text (model.kind='mlp')"),
    ("model=text model.standardize=true", "model.standardize=true is not allowed for model.kind='text': its inputs are token ids, never standardised (null or false)"),
    ("model.depth=-1", "model.depth=-1 must be >= 0"),
    ("model.depth=1000000", "model.depth=1000000 needs about 393 GB of memory (the network: 1000000 layers of width 128, 16383985280 parameters"),
    ("+model.width=64", "model.width is not a key of model; allowed: ['kind', 'depth', 'vocab', 'buckets', 'standardize', 'path', '_target_', 'weights', "),
    # what the model and the learners read against what the stream gives (token ids or numeric features)
    ("stream=prompts model=mlp", "model.kind='mlp' would compute with the token ids of stream=prompts, whose values mean nothing; a token stream needs model=text"),
    ("stream=prompts model=logistic", "model.kind='logistic' would compute with the token ids of stream=prompts"),
    ("model=text", "model.kind='text' reads rows of token ids, but stream=teacher gives numeric features; model=text needs a token stream (stream=prompts)"),
    ("strategy=[frozen,river_text_nb]", "strategy river_text_nb reads token ids, but stream=teacher gives numeric features; drop it (River learners allowed on stream=teacher: river_logreg, river_ht, ...)"),
    ("stream=prompts model=text strategy=[frozen,river_logreg]", "strategy river_logreg reads numeric features, but stream=prompts gives token ids; drop it (River learners allowed on stream=prompts: river_text_nb, river_text_logreg)"),
    ("stream=prompts model=text model.vocab=hashed model.buckets=10000000000 strategy=[frozen]", "model.buckets=10000000000 needs about 20480 GB of memory (the text network's embedding: 10000000001 rows of width 128"),
    # offline
    ("offline.n_trials=0", "offline.n_trials=0 must be >= 1"),
    ("offline.max_epochs=0", "offline.max_epochs=0 must be >= 1"),
    ("offline.patience=-2", "offline.patience=-2 must be >= 1"),
    ("offline.cache_dir=/dev/null", "offline.cache_dir='/dev/null' is a file: it must be a writable directory"),
    ("offline.sampler=optuna", "offline.sampler='optuna' is not one of ['random', 'tpe']"),
    ("offline.sampler=tpee", "offline.sampler='tpee' is not one of ['random', 'tpe'] (did you mean 'tpe'?)"),
    ("offline.pruner=hyperband", "offline.pruner='hyperband' is not one of ['median', 'successive_halving', 'none']"),
    ("offline.search.lr=[nan]", "offline.search.lr[0]=nan is not a finite number"),
    ("offline.search.lr=[inf]", "offline.search.lr[0]=inf is not a finite number"),
    ("offline.search.lr=[0.01,-0.1]", "offline.search.lr[1]=-0.1 must be > 0"),
    ("offline.search.lr=[]", "offline.search.lr=[] is empty; give at least one value"),
    ("offline.search.batch_size=[0]", "offline.search.batch_size[0]=0 must be >= 1"),
    ("offline.search.width=[0]", "offline.search.width[0]=0 must be >= 1"),
    ("offline.search.weight_decay=[-1]", "offline.search.weight_decay[0]=-1 must be >= 0"),
    ("+offline.search.momentum=[0.9]", "offline.search.momentum is not a key of offline.search; allowed: ['lr', 'batch_size', 'weight_decay', 'width']"),
    ("+offline.n_trails=3", "offline.n_trails is not a key of offline (did you mean 'n_trials'?)"),
    # replay
    ("replay.label_delay=-1", "replay.label_delay=-1 must be >= 0"),
    ("replay.label_delay=1200", "replay.label_delay=1200 is outside [0, stream.n_deploy=1200)"),
    ("replay.label_fraction=0", "replay.label_fraction=0 is outside (0, 1]"),
    ("replay.label_fraction=nan", "replay.label_fraction=nan is not a finite number"),
    ("replay.chunk=0", "replay.chunk=0 must be >= 1"),
    ("replay.latency_requests=-1", "replay.latency_requests=-1 must be >= 0"),
    # metrics
    ("metrics.confidence_threshold=1.5", "metrics.confidence_threshold=1.5 is outside [0, 1]"),
    ("metrics.window=0", "metrics.window=0 must be >= 1"),
    ("metrics.window=5000", "metrics.window=5000 is outside [1, stream.n_deploy=1200]"),
    ("metrics.recovery_tolerance=-0.1", "metrics.recovery_tolerance=-0.1 must be >= 0"),
    ("metrics.recovery_tolerance=inf", "metrics.recovery_tolerance=inf is not a finite number"),
    ("metrics.max_detection_delay=-1", "metrics.max_detection_delay=-1 must be >= 0"),
    # strategies: every one in conf/strategy
    ("strategy=[]", "strategy=[] is empty; choose at least one"),
    ("strategy=[frozen,frozen]", "strategy=[frozen,frozen] names frozen twice; each strategy runs once"),
    ("strategy=[frozen,banana]", "strategy=banana is not a strategy; available: ['finetune', 'frozen', "),
    ("strategy=[frozen,finetun]", "strategy=finetun is not a strategy (did you mean 'finetune'?)"),
    ("+strategy.frozen.stepp=3", "strategy.frozen.stepp is not an argument of harness.strategies.frozen.Frozen (did you mean 'step'?); allowed: ['step', 'calibrated']"),
    ("strategy.frozen.step=0", "strategy.frozen.step=0 must be >= 1"),
    ("strategy.frozen.step=2.5", "strategy.frozen.step=2.5 is not an integer"),
    ("strategy.frozen.calibrated=2", "strategy.frozen.calibrated=2 is not a boolean; allowed: true, false"),
    ("strategy=[frozen_uncalibrated] strategy.frozen_uncalibrated.step=-1", "strategy.frozen_uncalibrated.step=-1 must be >= 1"),
    ("strategy.finetune.lr=-1", "strategy.finetune.lr=-1 must be > 0"),
    ("strategy.finetune.lr=nan", "strategy.finetune.lr=nan is not a finite number"),
    ("strategy.finetune.batch_size=0", "strategy.finetune.batch_size=0 must be >= 1"),
    ("strategy.finetune.replay_share=1", "strategy.finetune.replay_share=1 is outside [0, 1)"),
    ("strategy.finetune.replay_size=0", "strategy.finetune.replay_size=0 must be >= 1"),
    ("strategy.finetune.seed=-1", "strategy.finetune.seed=-1 is outside [0, 4294967295]"),
    ("strategy.finetune.seed=${sed}", "strategy.finetune.seed cannot be resolved: Interpolation key 'sed' not found"),
    ("strategy=[oracle] strategy.oracle.max_epochs=0", "strategy.oracle.max_epochs=0 must be >= 1"),
    ("strategy=[oracle_switch] strategy.oracle_switch.patience=0", "strategy.oracle_switch.patience=0 must be >= 1"),
    ("stream=phishing stream.n_deploy=300 drift.onset=100 strategy=[frozen,oracle]", "strategy oracle needs the post-drift concept, which stream=phishing cannot generate (a table of real data)"),
    ("stream=bananas stream.n_deploy=300 drift.onset=100 strategy=[oracle_switch]", "strategy oracle_switch needs the post-drift concept, which stream=bananas cannot generate"),
    ("drift=recurring drift.period=300 strategy=[frozen,oracle_switch]", "strategy oracle_switch needs one post-drift concept, but drift.pattern=recurring switches back and forth"),
    ("strategy=[frozen_ensemble] strategy.frozen_ensemble.n_members=0", "strategy.frozen_ensemble.n_members=0 must be >= 1"),
    ("strategy=[retrain_periodic] strategy.retrain_periodic.every=0", "strategy.retrain_periodic.every=0 must be >= 1"),
    ("strategy=[retrain_periodic] strategy.retrain_periodic.window=1", "strategy.retrain_periodic.window=1 must be >= 2"),
    ("strategy=[retrain_periodic] strategy.retrain_periodic.val_fraction=1", "strategy.retrain_periodic.val_fraction=1 is outside (0, 1)"),
    ("strategy=[retrain_triggered] strategy.retrain_triggered.min_samples=1", "strategy.retrain_triggered.min_samples=1 must be >= 2"),
    ("strategy=[retrain_triggered] strategy.retrain_triggered.detector._target_=river.tree.HoeffdingTreeClassifier", "strategy.retrain_triggered.detector=HoeffdingTreeClassifier is not a River drift detector (river.drift.*)"),
    ("strategy=[river_ht] strategy.river_ht.model._target_=river.drift.ADWIN ~strategy.river_ht.model.max_size ~strategy.river_ht.model.memory_estimate_period", "strategy.river_ht.model=ADWIN is not a River classifier (river.base.Classifier)"),
    ("strategy=[majority] strategy.majority.n_classes=5", "strategy.majority.n_classes=5 differs from the stream's 3 classes"),
    ("strategy=[no_change] strategy.no_change.warm_start=maybe", "strategy.no_change.warm_start='maybe' is not a boolean; allowed: true, false"),
    ("strategy=[river_gnb] strategy.river_gnb.n_classes=1", "strategy.river_gnb.n_classes=1 must be >= 2"),
    ("strategy=[river_arf] +strategy.river_arf.model.n_trees=3", "strategy.river_arf could not be built: "),
    ("strategy=[river_knn] strategy.river_knn.model.engine._target_=os.getcwd", "strategy.river_knn.model.engine._target_='os.getcwd' is not a River class (river.*)"),
    ("strategy=[river_hat] strategy.river_hat.model.seed=nan", "strategy.river_hat.model.seed=nan is not a finite number"),
    ("strategy=[river_lev_bagging] strategy.river_lev_bagging.model.model._target_=io.FileIO", "strategy.river_lev_bagging.model.model._target_='io.FileIO' is not a River class (river.*)"),
    ("strategy=[river_arf] strategy.river_arf.model.n_models=0", "strategy.river_arf.model.n_models=0 must be >= 1"),
    ("strategy=[river_arf] strategy.river_arf.model.max_size=-1", "strategy.river_arf.model.max_size=-1 must be > 0"),
    ("strategy=[river_knn] strategy.river_knn.model.n_neighbors=0", "strategy.river_knn.model.n_neighbors=0 must be >= 1"),
    ("strategy=[river_knn] strategy.river_knn.model.engine.window_size=0", "strategy.river_knn.model.engine.window_size=0 must be >= 1"),
    ("strategy=[river_ht] strategy.river_ht.model.memory_estimate_period=0", "strategy.river_ht.model.memory_estimate_period=0 must be >= 1"),
    ("strategy=[river_lev_bagging] strategy.river_lev_bagging.model.n_models=0", "strategy.river_lev_bagging.model.n_models=0 must be >= 1"),
    ("strategy=[river_logreg] strategy.river_logreg.model._args_.1._target_=io.FileIO", "strategy.river_logreg.model._args_[1]._target_='io.FileIO' is not a River class (river.*)"),
    ("strategy=[river_adwin_bagging] strategy.river_adwin_bagging.warm_start=3", "strategy.river_adwin_bagging.warm_start=3 is not a boolean"),
    ("strategy=[river_logreg] strategy.river_logreg._target_=harness.strategies.nope.Nope", "strategy.river_logreg._target_='harness.strategies.nope.Nope' cannot be imported"),
    ("+strategy.evil._target_=collections.OrderedDict", "strategy.evil._target_='collections.OrderedDict' lacks the strategy protocol's ['fit_offline', 'prepare', 'predict_proba', 'learn', 'model_bytes', 'fingerprint']"),
    # code named anywhere in the config: every _target_ is decided by its slot before anything is built
    ("strategy=[river_logreg] strategy.river_logreg.model._args_=[[{_target_:builtins.open,file:x,mode:w}]]", "strategy.river_logreg.model._args_[0][0]._target_='builtins.open' is not a River class (river.*)"),
    ("strategy=[river_ht] +strategy.river_ht.model.leaf_model={_target_:shutil.rmtree,path:x}", "strategy.river_ht.model.leaf_model._target_='shutil.rmtree' is not a River class (river.*)"),
    ("strategy=[frozen] +strategy.frozen._args_=[{_target_:os.remove,_args_:[x]}]", "strategy.frozen._args_[0]._target_='os.remove' is not a River class (river.*)"),
    ("strategy=[river_logreg] +strategy.river_logreg.model._partial_=true", "strategy.river_logreg.model._partial_=True is not allowed"),
    ("stream=weather stream.change_points=[{_target_:builtins.print}]", "stream.change_points[0]._target_='builtins.print' is in no place that names code; only strategy.<name>._target_ (a strategy class)"),
    ("monitor.strategies=[{_target_:builtins.print}]", "monitor.strategies[0]._target_='builtins.print' is in no place that names code"),
    # limits of the machine, empty lists, duplicates
    ("threads=100000", "threads=100000 exceeds the "),
    ("monitor.detectors=[]", "monitor.detectors=[] is empty; give at least one value"),
    ("monitor.coverages=[]", "monitor.coverages=[] is empty; give at least one value"),
    ("offline.search.width=[]", "offline.search.width=[] is empty; give at least one value"),
    ("offline.cache_dir=/dev/null/cache", "offline.cache_dir='/dev/null/cache' is under /dev/null, which cannot hold it: it must be a writable directory (or offline.cache=false)"),
    ("+monitor.foo=1", "monitor.foo is not a key of monitor; allowed: ['enabled', 'strategies', "),
    ("seed=0,0", "seed=0,0 sweeps seed=0 twice; each cell runs once: give each value once"),
    ("drift.severity=0.5,0.50", "drift.severity=0.5,0.50 sweeps drift.severity=0.5 twice"),
    ("strategy=[frozen],[river_logreg],[frozen]", "sweeps strategy=['frozen'] twice"),
    ("seed=range(3,0)", "seed=range(3,0) sweeps no value: range(start,stop[,step]) counts from start up to stop"),
    ("'hydra.run.dir=/data/Müller'", "hydra.run.dir=/data/Müller cannot be parsed: a value holding spaces or non-ASCII characters is quoted: hydra.run.dir='/data/Müller'"),
    ("drift=1", "drift=1 is no option's name: the config group drift takes the name of one of its options; available: ['covariate',"),
    ("drift=[sudden,gradual]", "drift=[sudden,gradual] is a list: the config group drift takes the name of one of its options"),
    ("hydra/launcher=null", "hydra/launcher=null is no option's name: the config group hydra/launcher takes the name of one of its options"),
    ("seed=range(0,2),3", "seed=range(0,2),3 holds a sweep among its values, which Hydra cannot list"),
    ("drift.severity=range(0,1,0.0)", "drift.severity=range(0,1,0.0) is no range: range(start,stop[,step]) takes finite numbers and a step other than 0"),
    # a user's own stream (tests/user_streams.py)
    ("stream=custom", "stream=custom needs stream._target_=<module.Class>, a subclass of harness.streams.Stream"),
    ("stream=custom stream._target_=tests.user_streams.Nope", "stream._target_='tests.user_streams.Nope' cannot be imported"),
    ("stream=custom stream._target_=collections.OrderedDict", "stream._target_='collections.OrderedDict' is not a subclass of harness.streams.Stream"),
    ("stream=custom stream._target_=tests.user_streams.NoClasses", "stream._target_='tests.user_streams.NoClasses' declares no n_classes: take it as an argument"),
    ("stream=custom stream._target_=tests.user_streams.UndeclaredPostDrift", "stream._target_='tests.user_streams.UndeclaredPostDrift': stream UndeclaredPostDrift implements ['post_drift'] without declaring it: add _more_tags = {'post_drift': True} to the class"),
    ("stream=custom stream._target_=tests.user_streams.NoDeploy", "stream._target_='tests.user_streams.NoDeploy' lacks the stream's deploy()"),
    ("stream=custom stream._target_=tests.user_streams.NoFeatures", "stream=tests.user_streams.NoFeatures sets no n_features: its constructor must set self.n_features"),
    ("stream=custom stream._target_=tests.user_streams.Blobs +stream.distanse=2", "stream.distanse is not a key of stream=tests.user_streams.Blobs (did you mean 'distance'?); allowed: ['family', '_target_', 'n_offline', 'val_fraction', 'n_deploy', 'n_classes', 'n_features', 'distance', 'flip']"),
    ("stream=custom stream._target_=tests.user_streams.Blobs stream.n_classes=3", "stream.n_classes=3 is fixed at 2 for stream=tests.user_streams.Blobs"),
    ("stream=custom stream._target_=tests.user_streams.Blobs +stream.n_features=2.5", "stream.n_features=2.5 is not an integer"),
    ("stream=custom stream._target_=tests.user_streams.CountsClasses stream.n_classes=two", "stream.n_classes='two' is not an integer"),
    # a user's strategy (tests/user_strategies.py), subclassing harness.strategies.BaseStrategy
    ("+strategy.mine._target_=tests.user_strategies.NoLearn", "strategy.mine._target_='tests.user_strategies.NoLearn' lacks the strategy protocol's ['learn']; a subclass of harness.strategies.BaseStrategy needs only predict_proba and learn"),
    ("+strategy.mine._target_=tests.user_strategies.NoPredict", "strategy.mine._target_='tests.user_strategies.NoPredict' lacks the strategy protocol's ['predict_proba']; a subclass of harness.strategies.BaseStrategy needs only predict_proba and learn"),
    ("+strategy.mine._target_=tests.user_strategies.Frequencies +strategy.mine.n_clases=3", "strategy.mine.n_clases is not an argument of tests.user_strategies.Frequencies (did you mean 'n_classes'?); allowed: ['n_classes']"),
    ("+strategy.mine._target_=tests.user_strategies.Frequencies +strategy.mine.n_classes=2", "strategy.mine.n_classes=2 differs from the stream's 3 classes"),
    ("+strategy.mine._target_=tests.user_strategies.OldStyleBound", "strategy.mine._target_='tests.user_strategies.OldStyleBound': strategy OldStyleBound sets needs_known_drift as an attribute; declare it as a tag instead: _more_tags = {'needs_known_drift': True}"),
    ("+strategy.mine._target_=tests.user_strategies.Missing", "strategy.mine._target_='tests.user_strategies.Missing' cannot be imported"),
]

# `model=pretrained`, with files the test writes: {pt2} a torch.export program of an MLP mapping (n, 10)
# to (n, 3) logits, {pt2_d7} one taking (n, 7), {pt2_k4} one returning (n, 4), {pt2_fixed} one exported
# for batches of 4 rows only, {state} the state dict
# of tests.user_models.mlp, {buffered} that of tests.user_models.Buffered (no parameters), {text} a
# text file, {missing} a path that does not exist.
P = "model=pretrained"
FACTORY = "model=pretrained model._target_=tests.user_models"
MODEL = [
    (P, "model=pretrained needs model.path=FILE (a torch.export program, .pt2) or model._target_=pkg.factory with model.weights=FILE (a state dict)"),
    (f"{P} model.path={{pt2}} model._target_=tests.user_models.mlp", "model.path='{pt2}' and model._target_='tests.user_models.mlp' are both set; give one"),
    (f"{P} model.path={{pt2}} model.weights={{state}}", "model.weights='{state}' goes with model._target_ (a factory); the torch.export program model.path='{pt2}' carries its own weights"),
    (f"{FACTORY}.mlp", "model._target_='tests.user_models.mlp' needs model.weights=FILE (a state dict"),
    ("model.path={pt2}", "model.path='{pt2}' is only read by model=pretrained (model.kind='mlp')"),
    (f"{P} model.path={{missing}}", "model.path='{missing}' is not a file (no such file)"),
    (f"{P} model.path={{text}}", "model.path='{text}' is not a torch.export program (.pt2, written by torch.export.save; loading failed with NotProgram)"),
    (f"{P} model.path={{state}}", "model.path='{state}' is not a torch.export program (.pt2, written by torch.export.save; loading failed with NotProgram); a state dict goes in model.weights"),
    (f"{FACTORY}.mlp model.weights={{missing}}", "model.weights='{missing}' is not a file (no such file)"),
    (f"{FACTORY}.mlp model.weights={{text}}", "model.weights='{text}' is not a state dict saved with torch.save(module.state_dict(), FILE)"),
    (f"{FACTORY}.mlp model.weights={{pt2}}", "model.weights='{pt2}' is not a state dict saved with torch.save(module.state_dict(), FILE) (torch.load with weights_only=True failed with RuntimeError); a torch.export program goes in model.path"),
    (f"{FACTORY}.nope model.weights={{state}}", "model._target_='tests.user_models.nope' cannot be imported"),
    (f"{FACTORY}.not_a_module model.weights={{state}}", "model._target_='tests.user_models.not_a_module' is annotated to return dict, not a torch.nn.Module; model._target_ must be a torch.nn.Module subclass or a function annotated to return one"),
    (f"{FACTORY}.unannotated model.weights={{state}}", "model._target_='tests.user_models.unannotated' has no return annotation; model._target_ must be"),
    (f"{FACTORY}.Plain model.weights={{state}}", "model._target_='tests.user_models.Plain' is a class that does not subclass torch.nn.Module"),
    (f"{FACTORY}.mlp model.weights={{state}} +model.foo._target_=builtins.print", "model.foo is not a key of model"),
    (f"{FACTORY}.N_CLASSES model.weights={{state}}", "model._target_='tests.user_models.N_CLASSES' is an object of type int, not a factory"),
    (f"{FACTORY}.wide model.weights={{state}}", "model.weights='{state}' does not fit the module of model._target_='tests.user_models.wide': Error(s) in loading state_dict for Sequential: size mismatch"),
    (f"{P} model.path={{pt2}} model.outputs=scores", "model.outputs='scores' is not one of ['logits', 'probs']"),
    (f"{P} model.path={{pt2}} model.outputs=probs", "model.outputs='probs' but the rows model.path='{pt2}' returns on 8 standard-normal probe rows are not probabilities"),
    (f"{P} model.path={{pt2}} model.lr=0", "model.lr=0 must be > 0"),
    (f"{P} model.path={{pt2}} model.batch_size=0", "model.batch_size=0 must be >= 1"),
    (f"{P} model.path={{pt2_d7}}", "model.path='{pt2_d7}' takes inputs of shape (n, 7) but stream=teacher gives (n, 10) (stream.n_features=10)"),
    (f"{P} model.path={{pt2_k4}}", "model.path='{pt2_k4}' outputs (n, 4) but stream=teacher has 3 classes: it must map (n, 10) to (n, 3)"),
    (f"{P} model.path={{pt2_fixed}}", "model.path='{pt2_fixed}' takes rows of the stream's width 10 but fails on a batch of 8: the harness calls it with batches of any size, so export it with a dynamic batch dimension"),
    (f"{FACTORY}.mlp model.weights={{state}} stream=sea drift=none", "model._target_='tests.user_models.mlp' takes inputs of shape (n, 10) but stream=sea gives (n, 3)"),
    (f"{P} model.path={{pt2}} strategy=[frozen,frozen_ensemble]", "strategy frozen_ensemble trains fresh networks of the model's architecture, which the torch.export program model.path='{pt2}' cannot build"),
    (f"{FACTORY}.Buffered model.weights={{buffered}} strategy=[frozen,finetune]", "strategy finetune trains the model's weights, but model._target_='tests.user_models.Buffered' has no floating-point parameters"),
]

# stream=table and stream=weather: {data} is a directory of files the test writes (see table_files):
# good.csv (2,100 rows: numeric a, b, text city, label y), nan.csv (a NaN in a and in y),
# one_class.csv (y = 0 in the first 1,000 rows), broken.parquet (not parquet), notes.txt.
TABLE = [
    ("stream=table stream.target=y", "stream.path is required for stream=table: stream.path=FILE (.csv or .parquet)"),
    ("stream=table stream.path={data}/good.csv", "stream.target is required for stream=table: the column of labels"),
    ("stream=table stream.path={data}/nope.csv stream.target=y", "stream.path='{data}/nope.csv' does not exist (or is not a file); give the path of a CSV or parquet file"),
    ("stream=table stream.path={data}/notes.txt stream.target=y", "stream.path='{data}/notes.txt' is not a table this harness reads; allowed suffixes: ['.csv', '.parquet', '.pq']"),
    ("stream=table stream.path={data}/broken.parquet stream.target=y", "stream.path='{data}/broken.parquet' cannot be read as parquet: "),
    ("stream=table stream.path={data}/good.csv stream.target=label", "stream.target='label' is not a column of {data}/good.csv; columns: ['a', 'b', 'city', 'y']"),
    ("stream=table stream.path={data}/good.csv stream.target=y stream.order=time", "stream.order='time' is not a column of {data}/good.csv; columns: ['a', 'b', 'city', 'y']"),
    ("stream=table stream.path={data}/good.csv stream.target=y stream.features=[a,city]", "stream.features has non-numeric columns ['city'] in {data}/good.csv; features must be numbers"),
    ("stream=table stream.path={data}/good.csv stream.target=y stream.features=[a,b,y]", "stream.features has 'y', which is the target or order column"),
    ("stream=table stream.path={data}/nan.csv stream.target=y", "stream.path='{data}/nan.csv' has missing or infinite values in 2 rows (per column: {{'a': 1, 'y': 1}}); clean the file or set stream.dropna=true to drop those rows"),
    ("stream=table stream.path={data}/good.csv stream.target=y stream.n_offline=2050", "stream.n_offline=2050 is outside [10, 2000]: {data}/good.csv has 2100 rows and at least 100 must be left for deployment"),
    ("stream=table stream.path={data}/good.csv stream.target=y stream.n_deploy=1301", "stream.n_deploy=1301 is outside [1, 1300]: the rows of {data}/good.csv after stream.n_offline=800; null takes them all"),
    ("stream=table stream.path={data}/one_class.csv stream.target=y", "stream.n_offline=800 gives a training split of one class only (y=0 in the first 600 rows"),
    ("stream=table stream.path={data}/good.csv stream.target=y stream.n_classes=3", "stream.n_classes=3 differs from the 2 classes of column 'y' in {data}/good.csv"),
    ("stream=table stream.path={data}/good.csv stream.target=y stream.change_points=[0]", "stream.change_points[0]=0 is outside [1, stream.n_deploy=1200) (deployment indices, increasing)"),
    ("stream=table stream.path={data}/good.csv stream.target=y stream.change_points=[1200]", "stream.change_points[0]=1200 is outside [1, stream.n_deploy=1200)"),
    ("stream=table stream.path={data}/good.csv stream.target=y stream.change_points=[300,200]", "stream.change_points[1]=200 is outside [301, stream.n_deploy=1200)"),
    ("stream=table stream.path={data}/good.csv stream.target=y stream.sha256=abc123", "stream.sha256='abc123' is not the SHA-256 of {data}/good.csv ("),
    ("stream=table stream.path={data}/good.csv stream.target=y stream.dropna=1", "stream.dropna=1 is not a boolean; allowed: true, false"),
    ("stream=table stream.path={data}/indexed.csv stream.target=y", "column 'Unnamed: 0' of {data}/indexed.csv looks like a row index or a time stamp (strictly increasing integers), not a feature; name the features in stream.features"),
    ("stream=table stream.path={data}/typo.csv stream.target=y", "column 'a' of {data}/typo.csv holds numbers but row 5 (counting data rows from 0) has '0,25', which is not a number"),
    ("stream=table stream.path={data}/typo.csv stream.target=y stream.features=[a,b]", "column 'a' of {data}/typo.csv holds numbers but row 5"),
    ("stream=table stream.path={data}/real_target.csv stream.target=y", "stream.target='y': column 'y' of {data}/real_target.csv holds non-integer numbers (e.g. 0.5); the target must be class labels"),
    ("stream=table stream.path={data}/many_classes.csv stream.target=y", "stream.target='y' has 150 distinct values in {data}/many_classes.csv, more than stream.max_classes=100"),
    ("stream=table stream.path={data}/good.csv stream.target=y stream.max_classes=1", "stream.max_classes=1 must be >= 2"),
    ("stream=table stream.path={data}/huge.csv stream.target=y", "stream.path='{data}/huge.csv' has values beyond float32's range (|x| > 3.403e+38) in columns ['a'] (1 cells); features are float32: rescale them"),
    ("stream=table stream.path={data}/inf_label.parquet stream.target=y", "stream.path='{data}/inf_label.parquet' has missing or infinite values in 1 rows (per column: {{'y': 1}})"),
    ("stream=table stream.path={data}/good.csv stream.target=y stream.features=[]", "stream.features=[] is empty; name at least one column"),
    ("stream=table stream.path={data}/good.csv stream.target=y strategy=[oracle]", "strategy oracle needs the post-drift concept, which stream=table cannot generate (a table of real data)"),
    ("stream=weather stream.n_deploy=null stream.n_offline=18100", "stream.n_offline=18100 is outside [10, 18059]: "),
    ("stream=weather stream.n_deploy=null stream.change_points=[20000]", "stream.change_points[0]=20000 is outside [1, stream.n_deploy=17359)"),
    ("stream=weather stream.n_classes=3", "stream.n_classes=3 is fixed at 2 for stream=weather"),
]

# Misspelled keys and wrong types that Hydra's typed schemas refuse at composition, with its message.
COMPOSE = [
    ("drift.sevrity=0.5", "Key 'sevrity' not in 'DriftConf'"),
    ("drift.severity=abc", "Value 'abc' of type 'str' could not be converted to Float"),
    ("seed=1e20", "Value '1e+20' of type 'float' could not be converted to Integer"),
    ("stream.n_deploy=1e9", "Value '1000000000.0' of type 'float' could not be converted to Integer"),
    ("stream.n_featurs=5", "Key 'n_featurs' not in 'TeacherConf'"),
    ("model.depth=2.5", "Value '2.5' of type 'float' could not be converted to Integer"),
]

# Arguments of `python -m harness.report`: {empty} is an empty directory, {file} a regular file,
# {missing} a path that does not exist.
REPORT = [
    ("{empty}", "{empty} holds no run (no result.json below it)"),
    ("{missing}", "not a directory: {missing}"),
    ("{loop} {empty}", "not a directory: {loop}"),  # a link to itself
    ("{empty} --out {file}", "--out {file} is a file: it must be a writable directory"),
    ("{empty} --figures bad", "--figures bad is not a figure; available: ['accuracy_over_time', "),
    ("{empty} --figures none", "--figures none: to draw no figure give --figures with no name"),
    ("{empty} --figures accuracy_over_tme", "(did you mean 'accuracy_over_time'?)"),
    ("{empty} --figures reliability reliability", "--figures names reliability twice; give each figure once"),
    ("{empty} --metric acc", "argument --metric: invalid choice: 'acc'"),
]

# Through the real command line (a few seconds each): exit code 2, `error: ...`, no traceback, no directory.
CLI = [
    ("seed=-1", "error: seed=-1 is outside [0, 4294967295]"),
    ("save_stream=2", "error: save_stream=2 is not a boolean; allowed: true, false"),
    ("strategy.finetune.lr=-1", "error: strategy.finetune.lr=-1 must be > 0"),
    ("+drift.sevrity=0.5", "error: drift.sevrity is not a key of drift (did you mean 'severity'?)"),
    ("strategy=[frozen,frozen]", "error: strategy=[frozen,frozen] names frozen twice"),
    ("+strategy.mine._target_=tests.user_strategies.NoLearn", "error: strategy.mine._target_='tests.user_strategies.NoLearn' lacks the strategy protocol's ['learn']"),
    ("model=pretrained model.path=/dev/null", "error: model.path='/dev/null' is not a regular file"),
    ("-m hydra/launcher=parallel hydra.launcher.n_jobs=0 seed=0,1", "error: hydra.launcher.n_jobs=0 is invalid"),
    ("stream=custom stream._target_=tests.user_streams.Blobs +stream.distanse=2", "error: stream.distanse is not a key of stream=tests.user_streams.Blobs (did you mean 'distance'?)"),
    ("+hydra.callbacks.evil._target_=pathlib.Path.touch +hydra.callbacks.evil._args_=[pwn]", "error: +hydra.callbacks.evil._target_=pathlib.Path.touch names code for Hydra to call before any check"),
    ("-m seed=0,1 drift.severity=0,0.5,2", "error: drift.severity=2 is outside [0, 1]"),
    ("~monitor", "error: ~monitor deletes the config group monitor: the run would take its schema's defaults without a word; choose its options instead (monitor=NAME); available: ['default', 'off']"),
    ("-m seed=0,1 +hydra.callbacks.sweep.figures=[severity_boxs]", "error: hydra.callbacks.sweep.figures[0]='severity_boxs' is not one of"),
    ("-m seed=0,1 +hydra.callbacks.sweep.figurs=[severity_boxes]", "error: hydra.callbacks.sweep.figurs is not a key of hydra.callbacks.sweep (did you mean 'figures'?)"),
    ("--exp=run/.hydra/config.pickle", "error: --experimental-rerun is not supported: it unpickles a file"),
    ("--help --experimental-rerun run/.hydra/config.pickle", "error: --experimental-rerun is not supported"),
    ("hydra.job_logging=${now:%H}", "error: hydra.job_logging=${now:%H} gives '"),
    ("--resolve", "error: --resolve shows a config resolved: give it with --cfg job, --cfg hydra or --cfg all"),
    ("--mu --cfg job seed=0,1", "error: --multirun and --cfg were given: one of --run, --multirun, --cfg, --info and"),
    ("-sc", "error: -sc takes one of install=SHELL, uninstall=SHELL or query=SHELL, SHELL one of ['bash', 'fish', 'zsh']"),
    ("-sc query=zsh", "error: -sc query=zsh is what zsh's completion function sends, with COMP_LINE set"),
    ("-m seed=range(0,1000000000)", "error: seed=range(0,1000000000) sweeps 1,000,000,000 values; at most 1,000,000"),
]


def attempt(overrides: list[str], out: Path):
    """What ``python -m harness.run`` does with ``overrides``, in process."""
    check_overrides(overrides)
    return run(compose_config(overrides), out)


@pytest.mark.slow
@pytest.mark.parametrize("overrides, message", RUN, ids=[o for o, _ in RUN])
def test_bad_value_is_refused_before_any_file_is_written(overrides, message, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ConfigError) as refused:
        attempt(shlex.split(overrides), out)
    assert message in str(refused.value)
    assert not out.exists()


@pytest.fixture(scope="module")
def table_files(tmp_path_factory):
    """The files the TABLE inputs name, written here: {data} in those inputs."""
    data = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng([0, 11])
    good = pd.DataFrame({"a": rng.normal(size=2100), "b": rng.normal(size=2100)})
    good["city"] = rng.choice(["Lyon", "Oslo"], size=2100)
    good["y"] = (good.a > good.b).astype(int)
    good.to_csv(data / "good.csv", index=False)
    nan = good.copy()
    nan.loc[3, "a"], nan.loc[7, "y"] = np.nan, np.nan
    nan.to_csv(data / "nan.csv", index=False)
    good.assign(y=np.where(good.index < 1000, 0, good.y)).to_csv(data / "one_class.csv", index=False)
    good.to_csv(data / "indexed.csv")  # pandas writes the row number as a first column 'Unnamed: 0'
    good.astype({"a": str}).assign(a=lambda f: f.a.where(f.index != 5, "0,25")).to_csv(data / "typo.csv", index=False)
    good.assign(y=good.y * 0.5).to_csv(data / "real_target.csv", index=False)
    good.assign(y=np.arange(2100) % 150).to_csv(data / "many_classes.csv", index=False)
    good.assign(a=np.where(good.index == 5, 1e39, good.a)).to_csv(data / "huge.csv", index=False)
    good[["a", "b", "y"]].astype({"y": float}).assign(y=lambda f: np.where(f.index == 9, np.inf, f.y)).to_parquet(
        data / "inf_label.parquet")
    (data / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    (data / "notes.txt").write_text("a,y\n1,0\n")
    return data


@pytest.mark.slow
@pytest.mark.parametrize("overrides, message", TABLE, ids=[o for o, _ in TABLE])
def test_bad_table_is_refused_before_any_file_is_written(overrides, message, table_files, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ConfigError) as refused:
        attempt(shlex.split(overrides.format(data=table_files)), out)
    assert message.format(data=table_files) in str(refused.value)
    assert not out.exists()


@pytest.mark.parametrize("override, message", COMPOSE, ids=[o for o, _ in COMPOSE])
def test_misspelled_key_or_wrong_type_fails_at_composition(override, message):
    with pytest.raises(ConfigCompositionException) as refused:
        compose_config([override])
    assert message in str(refused.value) + str(refused.value.__cause__)


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """The files the ``MODEL`` inputs name (see the comment above ``MODEL``)."""
    from tests import user_models

    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    user_models.export_program(user_models.mlp().eval(), folder / "mlp.pt2")
    user_models.export_program(user_models.mlp(n_features=7).eval(), folder / "d7.pt2", n_features=7)
    user_models.export_program(user_models.mlp(n_classes=4).eval(), folder / "k4.pt2")
    torch.export.save(torch.export.export(user_models.mlp().eval(), (torch.zeros(4, 10),)), str(folder / "fixed.pt2"))
    torch.save(user_models.mlp().state_dict(), folder / "mlp_state.pt")
    torch.save(user_models.Buffered().state_dict(), folder / "buffered_state.pt")
    (folder / "notes.txt").write_text("not a model\n")
    names = {"pt2": "mlp.pt2", "pt2_d7": "d7.pt2", "pt2_k4": "k4.pt2", "pt2_fixed": "fixed.pt2", "state": "mlp_state.pt",
             "buffered": "buffered_state.pt", "text": "notes.txt", "missing": "missing.pt2"}
    return {key: str(folder / name) for key, name in names.items()}


@pytest.mark.slow
@pytest.mark.parametrize("overrides, message", MODEL, ids=[o for o, _ in MODEL])
def test_bad_model_is_refused_before_any_file_is_written(overrides, message, model_files, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ConfigError) as refused:
        attempt(shlex.split(overrides.format(**model_files)), out)
    assert message.format(**model_files) in str(refused.value)
    assert not out.exists()


@pytest.fixture
def report_paths(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("keep me\n")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    return {"empty": tmp_path / "empty", "file": tmp_path / "file", "missing": tmp_path / "missing",
            "loop": tmp_path / "loop"}


@pytest.mark.slow
@pytest.mark.parametrize("args, message", REPORT, ids=[a for a, _ in REPORT])
def test_report_refuses_bad_arguments_before_writing(args, message, report_paths, capsys):
    with pytest.raises(SystemExit) as refused:
        report_cli.main(shlex.split(args.format(**report_paths)))
    assert refused.value.code == 2
    assert message.format(**report_paths) in capsys.readouterr().err
    assert list(report_paths["empty"].iterdir()) == []
    assert report_paths["file"].read_text() == "keep me\n"


def test_report_figure_names_are_the_ones_plots_draws(tmp_path):
    """``FIGURES`` (checked before anything is read) lists exactly what ``draw_figures`` knows."""
    from harness.figures.study import draw_figures

    tables = {name: None for name in report.TABLES}
    with pytest.raises(ValueError) as refused:
        draw_figures(tables, tmp_path, conditions=[], names=["not a figure"])
    assert str(refused.value).endswith(f"available: {sorted(FIGURES)}")


@pytest.mark.slow
def test_a_class_outside_the_protocol_is_never_instantiated(tmp_path):
    """``io.FileIO(file, mode="w")`` would empty the file: it must be refused before it is built."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    overrides = ["+strategy.evil._target_=io.FileIO", f"+strategy.evil.file={victim}", "+strategy.evil.mode=w"]
    with pytest.raises(ConfigError, match=r"strategy.evil._target_='io.FileIO' lacks the strategy protocol's"):
        attempt(overrides, tmp_path / "run")
    assert victim.read_text() == "precious\n"
    assert not (tmp_path / "run").exists()


def test_the_memory_check_passes_a_run_that_fits_and_names_the_largest_part():
    """The estimate is a sum of array sizes: the tiny config fits in 1 GB, not in 1 MB."""
    from harness.pipeline.footprint import check_memory
    from harness.streams import build_stream
    from harness.validation.checks import build_strategies

    cfg = compose_config([])
    stream, strategies = build_stream(cfg.stream, cfg.drift, cfg.seed), build_strategies(cfg.strategy)
    check_memory(cfg, stream, strategies, available=10**9)
    with pytest.raises(ConfigError, match=r"^stream.n_deploy=1200 needs about .*this machine has 1e-06 GB"):
        check_memory(cfg, stream, strategies, available=1000)


def typed_env() -> dict[str, str]:
    """The environment of a command typed at a prompt (no tab key: no COMP_LINE), with the checkout importable."""
    return {**{k: v for k, v in os.environ.items() if k != "COMP_LINE"}, "PYTHONPATH": str(ROOT)}


@pytest.mark.slow
@pytest.mark.parametrize("overrides, message", CLI, ids=[o for o, _ in CLI])
def test_command_line_exits_2_with_the_message_and_no_traceback(overrides, message, tmp_path):
    env = typed_env()
    dirs = [f"hydra.run.dir={tmp_path / 'run'}", f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    command = [sys.executable, "-m", "harness.run", *shlex.split(overrides), *TINY, *dirs]
    done = preloaded.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "sweep").exists()
    assert not (tmp_path / "pwn").exists()  # no code named by an override ran


CI = os.environ.get("HYPOTHESIS_PROFILE") == "ci"  # README, "Tests": many more examples
WORDS = st.sampled_from(["-m", "--run", "--cfg", "job", "--resolve", "--info", "config", "-sc", "query=bash",
                         "install=bash", "-p", "drift", "--hydra-help", "--mu", "--inf", "--", "-cn", "nope", "-x"])
OVERRIDES = st.builds("{}{}={}".format, st.sampled_from(["", "+", "++", "~"]),
                      st.sampled_from(["seed", "drift", "drift.severity", "stream", "strategy", "hydra/launcher",
                                       "hydra.sweep.dir", "hydra.job.chdir", "experiment", "monitor", "threads"]),
                      st.sampled_from(["0", "-1", "0.5", "nan", "null", "[]", "[frozen]", "1,2", "range(2)", "glob(*)",
                                       "sudden", "basic", "ü", "${seed}", "'a b'", "a=b"]))


@pytest.mark.slow
@settings(max_examples=200 if CI else 6, derandomize=not CI, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.lists(st.one_of(WORDS, OVERRIDES), min_size=1, max_size=4))
def test_the_command_line_answers_any_arguments_without_a_traceback(argv, tmp_path):
    """Hydra's flags and overrides, mixed as a hurried user types them: a message or a run, never a
    traceback (each of Hydra's own rules it answers with one is checked before it runs)."""
    env = typed_env()
    here = Path(tempfile.mkdtemp(dir=tmp_path))  # one per example
    dirs = [f"hydra.run.dir={here / 'run'}", f"hydra.sweep.dir={here / 'sweep'}"]
    command = [sys.executable, "-m", "harness.run", *argv, *TINY, "monitor=off", "figures=false", *dirs]
    done = preloaded.run(command, cwd=here, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode in (0, 1, 2) and "Traceback" not in done.stdout + done.stderr, (argv, done.stderr[-2000:])


@pytest.mark.slow
@pytest.mark.parametrize(("args", "message"), [
    ("--help stream=nope", "error: In 'config': Could not find 'stream/nope'"),
    ("--help drift.sevrity=2", "error: Could not override 'drift.sevrity'."),
    ("--hydra-help ++y", "error: Error parsing override '++y'"),
])
def test_help_with_a_bad_override_says_why_without_a_traceback(args, message, tmp_path):
    """Hydra composes for ``--help`` outside the error report it gives a run."""
    command = [sys.executable, "-m", "harness.run", *shlex.split(args)]
    done = preloaded.run(command, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                         text=True, timeout=120)
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_report_command_line_exits_2_without_traceback(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("")
    command = [sys.executable, "-m", "harness.report", str(tmp_path / "empty"), "--out", str(tmp_path / "file")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "is a file: it must be a writable directory" in done.stderr and "Traceback" not in done.stderr


def table() -> str:
    """``docs/bad_inputs.md``: every input above with the message it gets."""
    def cell(text: str) -> str:
        return "`" + text.replace("|", "\\|").replace("`", "'") + "`"

    def rows(cases, command):
        return [f"| {cell(command + args)} | {cell(message)} |" for args, message in cases]

    lines = [
        "# Bad inputs and what they get",
        "",
        "Every input below is tried by `tests/test_bad_input.py`; each is refused before any compute with",
        "a message naming the key, the value and what is allowed (the table shows the part the test",
        "asserts). From the command line a refusal prints `error: <message>` on stderr and exits with",
        "code 2, without a traceback and without creating a run directory. Runs are tried on the tiny test",
        "configuration (`stream.n_deploy=1200`, `drift.onset=500`, ...; see `tests/conftest.py`).",
        "",
        "This file is generated from the test's lists; after changing them, regenerate it with",
        "",
        "```bash",
        "python -m tests.test_bad_input > docs/bad_inputs.md",
        "```",
        "",
        "## Examples, not the guarantee",
        "",
        "These lists are examples, one or a few per class of bad input. The guarantee comes from the design",
        "and from the property tests: every key's type and range are derived from the typed schemas",
        "(`harness/validation/settings.py`) and checked by the command line, `harness.compose` and `run_experiment`",
        "alike; every `_target_` anywhere in the config is decided by its slot before anything is built",
        "(`harness/validation/targets.py`); and `tests/test_properties.py` (Hypothesis) feeds generated values to every",
        "key, pairs of keys and generated tables, and requires a refusal naming the key or a run with finite",
        "numbers, never another exception.",
        "",
        "What is found only while a run goes on, or in a file it reads, has its own tests, each class with",
        "its message:",
        "",
        "| class | tests | what happens |",
        "|---|---|---|",
        "| a model file that would run code (pickled payloads, executed guards, `eval`'d shape expressions, "
        "non-operator targets in a `.pt2`) | `tests/test_model_files.py` | refused before `torch.export.load` "
        "sees it, naming `model.path`, the entry and why, unless `model.trusted=true` |",
        "| a directory that holds the user's files as `hydra.run.dir`, `hydra.sweep.dir` or `report --out`; "
        "a file, a dangling link or a link loop there | `tests/test_ownership.py`, `tests/test_settings.py` | "
        "`error: ...`, exit 2, the directory untouched |",
        "| a strategy or model that answers NaN, infinity, non-probabilities or the wrong shape "
        "(`strategy.finetune.lr=1e30`) | `tests/test_runtime_guards.py` | that strategy fails at its first "
        "bad sample, named in `failed_strategies` and on stderr (exit 1); the others' results stand |",
        "| a search whose every trial diverges | `tests/test_runtime_guards.py` | refused naming "
        "`offline.search` |",
        "| a `result.json`, cache `entry.json`, stored network or ledger entry with missing keys, wrong types "
        "or numbers that do not match their seal | `tests/test_records.py` | corrupt: set aside or redone, "
        "listed, never trusted |",
        "| a user module named by a `_target_` edited between two identical commands "
        "| `tests/test_user_code.py` | another config: the file that changed is named |",
        "",
        f"## `python -m harness.run` ({len(RUN)} inputs)",
        "",
        "| input | message |",
        "|---|---|",
        *rows(RUN, ""),
        "",
        f"## `model=pretrained` ({len(MODEL)} inputs)",
        "",
        "With files the test writes: `{pt2}` a torch.export program of an MLP mapping `(n, 10)` to `(n, 3)`",
        "logits, `{pt2_d7}` one taking `(n, 7)`, `{pt2_k4}` one returning `(n, 4)`, `{pt2_fixed}` one exported for",
        "batches of 4 rows only, `{state}` the state dict of",
        "`tests.user_models.mlp`, `{buffered}` that of `tests.user_models.Buffered` (no parameters), `{text}` a",
        "text file, `{missing}` a path that does not exist.",
        "",
        "| input | message |",
        "|---|---|",
        *rows(MODEL, ""),
        f"## `stream=table` and `stream=weather` ({len(TABLE)} inputs)",
        "",
        "`{data}` is a directory of files the test writes: `good.csv` (2,100 rows: numeric `a`, `b`, text `city`,",
        "label `y`), `nan.csv` (a NaN in `a` and one in `y`), `one_class.csv` (`y` = 0 in the first 1,000 rows),",
        "`huge.csv` (`good.csv` with 1e39 in `a`: finite in float64, not in float32), `inf_label.parquet`",
        "(an infinite label), `broken.parquet` (not parquet) and `notes.txt`.",
        "",
        "| input | message |",
        "|---|---|",
        *rows([(args, message.replace("{{", "{").replace("}}", "}")) for args, message in TABLE], ""),
        "",
        f"## Refused by Hydra while composing the config ({len(COMPOSE)} inputs)",
        "",
        "Hydra's own message; the command exits with code 1.",
        "",
        "| input | message |",
        "|---|---|",
        *rows(COMPOSE, ""),
        "",
        f"## `python -m harness.report` ({len(REPORT)} inputs)",
        "",
        "`{empty}` is an empty directory, `{file}` a regular file, `{missing}` a path that does not exist.",
        "",
        "| input | message |",
        "|---|---|",
        *rows(REPORT, "report "),
        "",
        f"## Through the real command line ({len(CLI)} inputs and one report)",
        "",
        "Each in a fresh process: exit code 2, the message on stderr, no `Traceback`, no run or sweep directory.",
        "",
        "| input | stderr holds |",
        "|---|---|",
        *rows(CLI, "python -m harness.run "),
        "| `python -m harness.report {empty} --out {file}` | `is a file: it must be a writable directory` |",
        "",
    ]
    return "\n".join(lines)


@pytest.mark.slow
def test_the_documented_table_is_the_one_these_lists_make():
    assert DOC.read_text() == table(), "regenerate: python -m tests.test_bad_input > docs/bad_inputs.md"


if __name__ == "__main__":
    print(table(), end="")
