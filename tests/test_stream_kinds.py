"""Each kind of drift changes what it says and nothing else (two-sample tests on fixed seeds).

Expected quantities are computed here independently of the streams' own labelling code: River's
generators are re-run directly, Gaussian posteriors come from ``scipy.stats``, real rows are looked up
in River's data set.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import numpy as np
import pytest
from river import datasets
from river.datasets import synth
from scipy import stats

from harness.scores.shift import KS_INEXACT, scipy_answer
from tests.streams_cases import make

N_DEPLOY, ONSET = 2000, 1000
# Phishing has 1,250 rows and uses none twice: its own default sizes, the drift at half-way.
SHORT = {"phishing": ({"n_offline": 350, "n_deploy": 450}, 225)}
ALPHA = 1e-3  # "no change" must not be rejected at this level (Bonferroni over features)
STRONG = 1e-6  # "change" must be rejected at this level


@lru_cache(maxsize=None)
def case(family: str, kind: str, severity: float = 1.0, seed: int = 0):
    sizes, onset = SHORT.get(family, ({"n_deploy": N_DEPLOY}, ONSET))
    stream = make(family, kind, "sudden", seed=seed, severity=severity, stream=sizes, drift_overrides={"onset": onset})
    deploy = stream.deploy()
    pre, post = deploy.phase == "pre", deploy.phase == "post"
    return stream, deploy, pre, post


def ks_pvalues(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with scipy_answer(KS_INEXACT):  # the monitor's KS, as it runs: scipy's answer, without its warning
        return np.array([stats.ks_2samp(a[:, j], b[:, j]).pvalue for j in range(a.shape[1])])


def same_rate(hits_a: np.ndarray, hits_b: np.ndarray) -> float:
    """p-value of "two Bernoulli samples have the same rate" (chi-squared on the 2x2 table)."""
    table = [[hits_a.sum(), (~hits_a).sum()], [hits_b.sum(), (~hits_b).sum()]]
    return stats.chi2_contingency(table).pvalue


def gaussian_posterior(stream, x: np.ndarray) -> np.ndarray:
    """``P(y | x)`` of the offline mixture, ``(n, K)``, from scipy's densities."""
    means, sds = stream._mixture
    log_joint = np.column_stack([
        stats.multivariate_normal(means[k], np.diag(sds[k] ** 2)).logpdf(x) + np.log(stream.prior[k])
        for k in range(stream.n_classes)
    ])  # fmt: skip
    return np.exp(log_joint - np.logaddexp.reduce(log_joint, axis=1, keepdims=True))


def bayes_agreement_z(stream, x: np.ndarray, y: np.ndarray) -> float:
    """z-score of how often ``y`` is the offline mixture's most probable class at ``x``, against what
    labels drawn from that mixture's posterior would give (0 when the labelling function is the same)."""
    posterior = gaussian_posterior(stream, x)
    expected = posterior.max(axis=1)
    agree = y == posterior.argmax(axis=1)
    return (agree.sum() - expected.sum()) / np.sqrt((expected * (1 - expected)).sum())


# -- covariate: P(x) moves, the labelling function does not -------------------------------------


@pytest.mark.parametrize("family", ["teacher", "gaussian_classes", "phishing", "bananas"])
def test_covariate_moves_the_inputs(family):
    _, deploy, pre, post = case(family, "covariate")
    strong = 1e-4 if family in SHORT else STRONG  # 225 samples a side cannot reach 1e-6 on 3-valued features
    assert ks_pvalues(deploy.X[pre], deploy.X[post]).min() < strong


def test_covariate_keeps_the_teachers_labels():
    stream, deploy, pre, post = case("teacher", "covariate")
    agree = deploy.y == stream.teacher(deploy.X)
    assert same_rate(agree[pre], agree[post]) > ALPHA


def test_covariate_keeps_the_gaussian_posterior():
    stream, deploy, pre, post = case("gaussian_classes", "covariate")
    assert abs(bayes_agreement_z(stream, deploy.X[post], deploy.y[post])) < 4
    assert abs(bayes_agreement_z(stream, deploy.X[pre], deploy.y[pre])) < 4


@pytest.mark.parametrize("family", ["phishing", "bananas"])
def test_covariate_on_real_data_keeps_every_row_and_its_label(family):
    _, deploy, _, post = case(family, "covariate")
    dataset = {"phishing": datasets.Phishing, "bananas": datasets.Bananas}[family]()
    rows = {(tuple(float(v) for v in x.values()), int(y)) for x, y in dataset}  # the source's values
    assert all((tuple(x), int(y)) in rows for x, y in zip(deploy.X[post], deploy.y[post]))


@pytest.mark.parametrize("kind", ["none", "covariate", "concept", "label"])
@pytest.mark.parametrize("family", ["phishing", "bananas"])
def test_real_data_uses_every_row_at_most_once(family, kind):
    """Offline and deployment together hold each input of the data set no more often than the data
    set does: no deployment sample repeats an earlier one (labels aside: concept drift swaps them)."""
    stream, deploy, _, _ = case(family, kind)
    offline = stream.offline()
    dataset = {"phishing": datasets.Phishing, "bananas": datasets.Bananas}[family]()
    available = Counter(tuple(float(v) for v in x.values()) for x, _ in dataset)
    used = Counter(map(tuple, np.vstack([offline.X_train, offline.X_val, deploy.X])))
    assert all(count <= available[row] for row, count in used.items())


# -- concept: P(x) stays, P(y | x) moves ---------------------------------------------------------


CONCEPT_KEEPS_PX = ["teacher", "gaussian_classes", "phishing", "bananas", "sea", "agrawal", "hyperplane",
                    "stagger", "sine", "mixed"]  # fmt: skip


@pytest.mark.parametrize("family", CONCEPT_KEEPS_PX)
def test_concept_keeps_the_inputs(family):
    _, deploy, pre, post = case(family, "concept")
    assert ks_pvalues(deploy.X[pre], deploy.X[post]).min() > ALPHA / deploy.X.shape[1]


def test_concept_changes_the_teachers_labels_of_the_same_inputs():
    stream, deploy, pre, post = case("teacher", "concept")
    agree = deploy.y == stream.teacher(deploy.X)
    assert agree[post].mean() < agree[pre].mean() - 0.1 and same_rate(agree[pre], agree[post]) < STRONG


def test_concept_changes_the_gaussian_posterior():
    stream, deploy, pre, post = case("gaussian_classes", "concept")
    assert abs(bayes_agreement_z(stream, deploy.X[pre], deploy.y[pre])) < 4
    assert bayes_agreement_z(stream, deploy.X[post], deploy.y[post]) < -10


def river_old_concept(family: str, stream, n: int) -> np.ndarray:
    """Labels of River's own generator for the offline concept, same seed, whole sequence."""
    p = stream.describe()
    generator = {
        "sea": lambda: synth.SEA(variant=p["concept"], noise=p["noise"], seed=stream.seed),
        "agrawal": lambda: synth.Agrawal(classification_function=p["concept"], seed=stream.seed),
        "stagger": lambda: synth.STAGGER(classification_function=p["concept"], seed=stream.seed),
        "sine": lambda: synth.Sine(classification_function=p["concept"], seed=stream.seed),
        "mixed": lambda: synth.Mixed(classification_function=p["concept"], seed=stream.seed),
        "hyperplane": lambda: synth.Hyperplane(seed=stream.seed, n_features=p["n_features"],
                                               n_drift_features=p["n_drift_features"],
                                               noise_percentage=p["noise_percentage"], sigma=0.0),
    }[family]()  # fmt: skip
    return np.array([int(y) for _, y in generator.take(n)])


@pytest.mark.parametrize("family", ["sea", "agrawal", "stagger", "sine", "mixed", "hyperplane"])
def test_river_concept_relabels_river_inputs(family):
    stream, deploy, pre, post = case(family, "concept")
    old = river_old_concept(family, stream, stream.n_offline + N_DEPLOY)[stream.n_offline :]
    assert (deploy.y[pre] == old[pre]).all()
    assert (deploy.y[post] != old[post]).mean() > 0.1


@pytest.mark.parametrize("family", ["led", "random_rbf"])
def test_river_concept_that_also_moves_inputs_changes_the_joint(family):
    _, deploy, pre, post = case(family, "concept")
    assert ks_pvalues(deploy.X[pre], deploy.X[post]).min() < STRONG


@pytest.mark.parametrize("family", ["phishing", "bananas"])
def test_concept_on_real_data_swaps_labels_in_the_region_only(family):
    stream, deploy, pre, post = case(family, "concept")
    _, reference, _, _ = case(family, "none")
    np.testing.assert_array_equal(deploy.X, reference.X)
    swapped = deploy.y != reference.y
    assert not swapped[pre].any() and swapped[post].mean() > 0.05
    dataset = {"phishing": datasets.Phishing, "bananas": datasets.Bananas}[family]()
    column = [float(x[stream.shift_feature]) for x, _ in dataset]
    feature = deploy.X[:, stream.columns.index(stream.shift_feature)]
    if stream.shift_side == "high":
        assert feature[swapped].min() >= np.float32(np.quantile(column, stream.quantile))
    else:
        assert feature[swapped].max() <= np.float32(np.quantile(column, 1 - stream.quantile))


# -- label: P(y) moves, P(x | y) stays -----------------------------------------------------------


@pytest.mark.parametrize("family", ["teacher", "gaussian_classes", "phishing", "bananas"])
def test_label_moves_the_priors_to_the_target(family):
    stream, deploy, pre, post = case(family, "label")
    counts = [np.bincount(deploy.y[mask], minlength=stream.n_classes) for mask in (pre, post)]
    assert stats.chi2_contingency(counts).pvalue < STRONG
    assert (deploy.y[post] == 0).mean() == pytest.approx(stream.minority_prior, abs=0.03)


@pytest.mark.parametrize("family", ["teacher", "gaussian_classes", "phishing", "bananas"])
def test_label_keeps_the_class_conditionals(family):
    stream, deploy, pre, post = case(family, "label")
    tests = [
        ks_pvalues(deploy.X[pre & (deploy.y == k)], deploy.X[post & (deploy.y == k)])
        for k in range(stream.n_classes)
        if min((pre & (deploy.y == k)).sum(), (post & (deploy.y == k)).sum()) >= 30
    ]
    assert tests, "no class has enough samples on both sides"
    p = np.concatenate(tests)
    assert p.min() > ALPHA / len(p)


# -- novel: a new sub-population far from the data, the rest untouched ---------------------------


@pytest.mark.parametrize("family", ["teacher", "gaussian_classes"])
def test_novel_inputs_lie_outside_the_training_support(family):
    stream, deploy, pre, post = case(family, "novel")
    offline = stream.offline()
    novel = deploy.novel
    assert not novel[pre].any()
    assert stats.binomtest(int(novel[post].sum()), int(post.sum()), stream.novel_share).pvalue > ALPHA
    centre = offline.X_train.mean(axis=0)
    radius = np.quantile(np.linalg.norm(offline.X_train - centre, axis=1), 0.999)
    assert (np.linalg.norm(deploy.X[novel] - centre, axis=1) > radius).mean() > 0.9


@pytest.mark.parametrize("family", ["teacher", "gaussian_classes"])
def test_novel_leaves_the_other_inputs_alone(family):
    _, deploy, pre, post = case(family, "novel")
    known = post & ~deploy.novel
    assert ks_pvalues(deploy.X[pre], deploy.X[known]).min() > ALPHA / deploy.X.shape[1]


def test_novel_inputs_are_labelled_by_the_teacher():
    stream, deploy, pre, _ = case("teacher", "novel")
    agree = deploy.y == stream.teacher(deploy.X)
    assert same_rate(agree[pre], agree[deploy.novel]) > ALPHA


# -- none: nothing moves ------------------------------------------------------------------------


SEVERITY_ZERO = [(f, k) for f, kinds in [("teacher", "covariate concept label novel"),
                  ("gaussian_classes", "covariate concept label novel"), ("sea", "concept"), ("agrawal", "concept"),
                  ("hyperplane", "concept"), ("random_rbf", "concept"), ("led", "concept"),
                  ("phishing", "covariate concept label"), ("bananas", "covariate concept label")]
                 for k in kinds.split()]  # fmt: skip


@pytest.mark.parametrize(("family", "kind"), SEVERITY_ZERO)
def test_severity_zero_deploys_the_offline_distribution(family, kind):
    stream, deploy, _, _ = case(family, kind, severity=0.0)
    offline = stream.offline()
    x = np.vstack([offline.X_train, offline.X_val])
    y = np.concatenate([offline.y_train, offline.y_val])
    assert ks_pvalues(x, deploy.X).min() > ALPHA / x.shape[1]
    counts = np.array([np.bincount(labels, minlength=stream.n_classes) for labels in (y, deploy.y)])
    assert stats.chi2_contingency(counts[:, counts.sum(axis=0) > 0]).pvalue > ALPHA
