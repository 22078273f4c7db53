"""The strategy contract as a function: :func:`check_strategy` runs it on any strategy class, a user's
or the project's own, as River's ``utils.estimator_checks.check_estimator`` does for estimators.

Every check replays a small drifting stream (:func:`make_data`: a linear teacher whose labels are
permuted halfway) through the real prequential loop, :func:`harness.pipeline.replay.replay`, after
``fit_offline`` on its offline data and a tiny pre-deployment network (:func:`pretrained_network`).
A failed check raises an ``AssertionError`` that names the check and the strategy::

    from harness.pipeline.testing import check_strategy
    check_strategy(Mine)  # or check_strategy(lambda: Mine(n_classes=3))
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from harness.offline.freeze import Pretrained, optimise_and_freeze
from harness.pipeline.replay import Record, label_mask, replay
from harness.strategies.base import missing_members, tags
from harness.streams.base import DeployData, KnownDrift, OfflineData

ONSET = 75  # deployment labels are permuted from here on
FUTURE_FROM = (10, 90)  # labels from these samples on are changed: earlier predictions must not move

# The checks, in the order they run; a failure names the key.
CHECKS = {
    "protocol": "has every member of the strategy protocol (harness.strategies.base)",
    "tags": "declares its capabilities as tags (_more_tags, harness.strategies.base.Tags): known names and "
            "values, none set as a plain attribute; labels_used only with the tag selects_labels",
    "replay": "fit_offline and the prequential loop (harness.pipeline.replay.replay) run without an error",
    "probabilities": "predict_proba returns (n, n_classes) finite probabilities >= 0 whose rows sum to 1, "
                     "before any deployment label and after",
    "pure predict_proba": "predict_proba changes nothing: the same inputs twice give the same answer",
    "inputs untouched": "no input array (offline data, deployment inputs, labels) is modified",
    "counters": "step is an int >= 1, n_updates and n_retrains ints >= 0, detections None or positions "
                "of labels it has learned from, model_bytes an int > 0",
    "prequential": "a prediction does not depend on its own label or later ones: labels changed from "
                   "sample s on leave the predictions of samples 0..s as they were",
    "deterministic": "two fresh instances predict exactly the same, also after another instance ran on other data",
    "delayed and partial labels": "learn takes labels that arrive late (label_delay=3) and only some of "
                                  "them (60%)",
    "static weights": "a strategy that returns a fingerprint keeps it, and its predictions, through a replay",
}  # fmt: skip


def make_data(
    seed: int = 0, n_offline: int = 120, n_deploy: int = 150, d: int = 4, onset: int = ONSET, n_classes: int = 3
) -> tuple[OfflineData, DeployData]:
    """Linear teacher ``y = argmax(x W)`` on float32 ``(n, d)`` inputs; in deployment the labels are
    permuted (``y + 1 mod n_classes``) from ``onset`` on. The offline data carry that post-drift
    concept (``known_drift``) for the strategies that need it."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, n_classes))
    X = rng.normal(size=(n_offline + n_deploy, d)).astype(np.float32)
    y = (X @ W).argmax(axis=1).astype(np.int64)
    Xo, yo, Xd, yd = X[:n_offline], y[:n_offline], X[n_offline:], y[n_offline:].copy()
    yd[onset:] = (yd[onset:] + 1) % n_classes
    n_train = n_offline * 3 // 4
    Xp = np.random.default_rng([seed, 1]).normal(size=(n_offline, d)).astype(np.float32)
    yp = ((Xp @ W).argmax(axis=1) + 1) % n_classes  # the post-drift concept
    post = OfflineData(Xp[:n_train], yp[:n_train], Xp[n_train:], yp[n_train:])
    offline = OfflineData(Xo[:n_train], yo[:n_train], Xo[n_train:], yo[n_train:], KnownDrift(post, onset))
    t = np.arange(n_deploy)
    deploy = DeployData(
        X=Xd, y=yd, t=t, phase=np.where(t < onset, "pre", "post"),
        drift_progress=(t >= onset).astype(float), novel=np.zeros(n_deploy, bool),
    )  # fmt: skip
    return offline, deploy


def with_labels(deploy: DeployData, y: np.ndarray) -> DeployData:
    """``deploy`` with its labels replaced by ``y`` (the inputs are the same arrays)."""
    return DeployData(deploy.X, y, deploy.t, deploy.phase, deploy.drift_progress, deploy.novel)


def future_labels(y: np.ndarray, s: int, n_classes: int) -> np.ndarray:
    """From ``s`` on, each label is replaced by one that differs from it and depends on the next label.

    >>> future_labels(np.array([0, 1, 2, 2]), 1, 3).tolist()
    [0, 2, 1, 1]
    """
    nxt = np.append(y[1:], y[-1])
    out = y.copy()
    out[s:] = ((y + 1 + (nxt == y)) % n_classes)[s:]
    return out


@lru_cache(maxsize=None)
def pretrained_network(seed: int = 0, n_classes: int = 3) -> Pretrained:
    """The pre-deployment outcome for :func:`make_data`'s offline data: a one-hidden-layer MLP of 16
    units with the input scaler every harness network has, trained 5 epochs, temperature-scaled and
    frozen (about a second)."""
    offline, _ = make_data(seed, n_classes=n_classes)
    return optimise_and_freeze(
        offline, model_kind="mlp", depth=1, n_classes=n_classes,
        space={"lr": [0.01], "batch_size": [32], "weight_decay": [0.0], "width": [16]},
        n_trials=1, max_epochs=5, patience=2, calibrate=True, seed=seed, standardize=True,
    )  # fmt: skip


class ContractError(AssertionError):
    """A check of :func:`check_strategy` failed; the message names the check and the strategy."""


@contextlib.contextmanager
def _check(check: str, name: str):
    """Turn any failure inside into a :class:`ContractError` naming the check and the strategy."""
    try:
        yield
    except ContractError:
        raise
    except Exception as error:
        detail = str(error).strip() or type(error).__name__
        if not isinstance(error, AssertionError):
            detail = f"{type(error).__name__}: {detail}"
        raise ContractError(f"check_strategy({name}) failed {check!r} ({CHECKS[check]}): {detail}") from error


def _assert_probabilities(proba, n: int, n_classes: int, when: str) -> None:
    proba = np.asarray(proba)
    assert proba.shape == (n, n_classes), f"{when}: shape {proba.shape}, not ({n}, {n_classes})"
    assert np.isfinite(proba).all(), f"{when}: not finite"
    assert (proba >= 0).all(), f"{when}: negative probabilities"
    worst = float(np.abs(proba.sum(axis=1) - 1.0).max()) if n else 0.0
    assert worst <= 1e-6, f"{when}: a row sums to 1 {worst:+.2g}"  # float32 networks: about 1e-7


def _is_count(value, low: int) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low


def _assert_counters(strategy, n_labels: int, when: str) -> None:
    assert _is_count(strategy.step, 1), f"{when}: step={strategy.step!r} is not an int >= 1"
    for key in ("n_updates", "n_retrains"):
        assert _is_count(getattr(strategy, key), 0), f"{when}: {key}={getattr(strategy, key)!r} is not an int >= 0"
    size = strategy.model_bytes()
    assert _is_count(size, 1), f"{when}: model_bytes()={size!r} is not an int > 0"
    detections = strategy.detections
    if detections is not None:
        positions = list(detections)
        assert all(_is_count(p, 0) and p < n_labels for p in positions), (
            f"{when}: detections={positions} are not positions in the {n_labels} labels learned from"
        )


def _fields(data: OfflineData | DeployData) -> tuple[str, ...]:
    return ("X_train", "y_train", "X_val", "y_val") if isinstance(data, OfflineData) else ("X", "y")


class _Checker:
    """One strategy factory, the data and the replays the checks share."""

    def __init__(self, factory: Callable, name: str | None, n_classes: int):
        self.factory, self.k = factory, n_classes
        self.offline, self.deploy = make_data(n_classes=n_classes)
        self.other_offline, self.other_deploy = make_data(seed=5, n_classes=n_classes)
        self.pretrained = pretrained_network(0, n_classes)
        self.name = name
        datasets = {"offline": self.offline, "deploy": self.deploy, "other offline": self.other_offline,
                    "other deploy": self.other_deploy}  # fmt: skip
        self.pristine = [(f"{label}.{field}", getattr(data, field), getattr(data, field).copy())
                         for label, data in datasets.items() for field in _fields(data)]  # fmt: skip

    def fresh(self, offline: OfflineData | None = None):
        with _check("protocol", self.name or getattr(self.factory, "__qualname__", repr(self.factory))):
            strategy = self.factory()
        if self.name is None:
            self.name = type(strategy).__qualname__
        with _check("protocol", self.name):
            missing = missing_members(strategy)
            assert not missing, f"lacks {missing}"
        with _check("tags", self.name):
            declared = tags(strategy).selects_labels
        with _check("replay", self.name):
            strategy.fit_offline(offline or self.offline, self.pretrained)
        with _check("tags", self.name):  # labels_used may be made by fit_offline
            assert declared == hasattr(strategy, "labels_used"), (
                "declares selects_labels but has no labels_used after fit_offline" if declared else
                "has labels_used but does not declare it: add _more_tags = {'selects_labels': True}")
        return strategy

    def replay(self, strategy, deploy: DeployData, **kwargs) -> Record:
        """Replay ``deploy`` through ``strategy`` (fitted); then check that no input array changed."""
        record = replay(deploy, {self.name: strategy}, n_classes=self.k, progress=False, memory_every=50,
                        **kwargs)[self.name]  # fmt: skip
        with _check("inputs untouched", self.name):
            changed = [what for what, array, copy in self.pristine if not np.array_equal(array, copy)]
            assert not changed, f"{changed} modified (by fit_offline, prepare, predict_proba or learn)"
        return record


    def before_labels(self) -> None:
        """Two fresh instances, before any deployment label: valid, pure and equal answers."""
        probe, twin = self.fresh(), self.fresh()
        name, k, X = self.name, self.k, self.deploy.X
        inputs = probe.prepare(X)
        with _check("probabilities", name):
            first = probe.predict_proba(inputs[:5])
            _assert_probabilities(first, 5, k, "before any deployment label")
        with _check("pure predict_proba", name):
            again = probe.predict_proba(inputs[:5])
            assert np.array_equal(np.asarray(first), np.asarray(again)), "the second call answered differently"
        with _check("deterministic", name):
            other = twin.predict_proba(twin.prepare(X)[:5])
            assert np.array_equal(np.asarray(first), np.asarray(other)), "two fresh instances answer differently"
        with _check("counters", name):
            _assert_counters(probe, 0, "after fit_offline")

    def honest(self) -> Record:
        """The stream with every label, at once: the record the other replays are compared with."""
        strategy, name, n = self.fresh(), self.name, len(self.deploy)
        with _check("static weights", name):
            fingerprint = strategy.fingerprint()
            assert fingerprint is None or isinstance(fingerprint, str), f"fingerprint()={fingerprint!r}: not a str"
            if fingerprint is not None:
                before = strategy.predict_proba(strategy.prepare(self.deploy.X)[:5])
        with _check("replay", name):
            record = self.replay(strategy, self.deploy)
        with _check("probabilities", name):
            _assert_probabilities(record.proba, n, self.k, "through the replay")
        with _check("counters", name):
            _assert_counters(strategy, n, "after the replay")
        inputs = strategy.prepare(self.deploy.X)[:5]
        with _check("probabilities", name):
            once = strategy.predict_proba(inputs)
            _assert_probabilities(once, 5, self.k, "after every deployment label")
        with _check("pure predict_proba", name):
            again = strategy.predict_proba(inputs)
            assert np.array_equal(np.asarray(once), np.asarray(again)), "after the replay, a second call differs"
        if fingerprint is not None:
            with _check("static weights", name):
                assert strategy.fingerprint() == fingerprint, "the fingerprint changed during the replay"
                assert np.array_equal(np.asarray(once), np.asarray(before)), "its predictions changed in the replay"
        return record

    def prequential(self, honest: Record) -> None:
        """Fresh instances on the stream with the labels from sample ``s`` on changed."""
        for s in FUTURE_FROM:
            with _check("replay", self.name):
                moved = self.replay(self.fresh(), with_labels(self.deploy, future_labels(self.deploy.y, s, self.k)))
            with _check("prequential", self.name):
                changed = np.flatnonzero((moved.proba[: s + 1] != honest.proba[: s + 1]).any(axis=1))
                assert not len(changed), (
                    f"with the labels from sample {s} on changed, the predictions of {len(changed)} of samples "
                    f"0..{s} (first {changed[:5].tolist()}) changed too: they depend on labels not revealed yet, "
                    "or on labels another instance was handed (state shared between instances); a strategy "
                    "that does not repeat itself from one run to the next fails here too"
                )

    def repeat(self, honest: Record) -> None:
        """A run on other data, then a fresh instance on the stream again: the same record."""
        with _check("replay", self.name):
            self.replay(self.fresh(self.other_offline), self.other_deploy)
            again = self.replay(self.fresh(), self.deploy)
        with _check("deterministic", self.name):
            assert np.array_equal(again.proba, honest.proba), "the predictions differ"
            for key in ("n_updates", "n_retrains"):
                first_run, second_run = getattr(honest, key), getattr(again, key)
                assert first_run == second_run, f"{key}: {second_run} != {first_run}"
            if honest.detections is not None:
                assert np.array_equal(again.detections, honest.detections), "the detections differ"

    def delayed_and_partial(self) -> None:
        """Labels 3 samples late, 60% of them."""
        strategy, n = self.fresh(), len(self.deploy)
        mask = label_mask(n, 0.6, seed=1)
        with _check("delayed and partial labels", self.name):
            record = self.replay(strategy, self.deploy, label_delay=3, labelled=mask)
        with _check("probabilities", self.name):
            _assert_probabilities(record.proba, n, self.k, "with delayed and partial labels")
        with _check("counters", self.name):
            _assert_counters(strategy, int(mask.sum()), "with delayed and partial labels")


def check_strategy(factory: Callable, *, name: str | None = None, n_classes: int = 3) -> None:
    """Run the strategy contract (:data:`CHECKS`) on the strategies ``factory()`` builds.

    The data have ``n_classes`` classes and 4 features, 120 offline and 150 deployment samples (a
    linear teacher whose labels are permuted halfway); each check replays them through the real
    prequential loop after ``fit_offline`` on a tiny pre-deployment network (trained once per
    process, about a second).

    Parameters
    ----------
    factory : callable
        Zero arguments, returns a fresh, unfitted strategy each call: the class itself when its
        arguments have defaults, or e.g. ``lambda: Mine(n_classes=3)``. (A config node is not
        taken: its interpolations need a whole run's config; build from it in the factory.)
    name : str, optional
        What a failure is reported under (default: the class's name).
    n_classes : int, default 3
        Classes of the data.

    Returns
    -------
    None
        When every check passes. Raises :class:`ContractError` (an ``AssertionError``) naming the
        first check that fails and why.

    Examples
    --------
    >>> import numpy as np
    >>> from harness.strategies import BaseStrategy
    >>> class Frequencies(BaseStrategy):
    ...     def __init__(self, n_classes: int = 3):
    ...         self.counts = np.zeros(n_classes)
    ...     def predict_proba(self, X):
    ...         return np.tile((self.counts + 1) / (self.counts.sum() + len(self.counts)), (len(X), 1))
    ...     def learn(self, X, y):
    ...         self.counts += np.bincount(y, minlength=len(self.counts))
    ...     def model_bytes(self):  # exact; the default pickles the instance (not a class made here)
    ...         return self.counts.nbytes
    >>> check_strategy(Frequencies)
    >>> class Unnormalised(Frequencies):
    ...     def predict_proba(self, X):
    ...         return 2 * super().predict_proba(X)
    >>> try:
    ...     check_strategy(Unnormalised)
    ... except AssertionError as failed:
    ...     print(str(failed).split(" (")[0], "...", str(failed).splitlines()[0].split(": ")[-1])
    check_strategy(Unnormalised) failed 'probabilities' ... a row sums to 1 +1
    """
    checker = _Checker(factory, name, n_classes)
    checker.before_labels()
    honest = checker.honest()
    checker.prequential(honest)
    checker.repeat(honest)
    checker.delayed_and_partial()
