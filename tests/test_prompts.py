"""The prompt stream (``stream=prompts``), the text model (``model=text``) and the River text
baselines: labels come from the templates, severity 0 is the offline distribution, each kind changes
what it says."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from river import compose, evaluate, feature_extraction, linear_model, metrics, multiclass, naive_bayes
from scipy import stats

from harness.monitor.watch import Reference, watch
from harness.offline.freeze import exported_proba, optimise_and_freeze
from harness.offline.models import Calibrated, build_network, predict_proba
from harness.offline.text_model import TextNet
from harness.pipeline.footprint import text_parameters, text_rows
from harness.pipeline.replay import replay
from harness.pipeline.testing import check_strategy
from harness.run import run
from harness.strategies.alarm import RetrainOnAlarm
from harness.strategies.river import to_text
from harness.streams import DriftSchedule, build_stream
from harness.streams.prompts import PromptsStream
from harness.streams.view import identity, stream_points, stream_timeline, token_features
from harness.validation.checks import build_strategies
from harness.validation.errors import ConfigError
from harness.validation.preflight import preflight
from tests.conftest import compose_config


def prompts(kind="none", severity=1.0, **params) -> PromptsStream:
    return PromptsStream(DriftSchedule(kind, "sudden", severity, 300, 0), n_offline=1200, n_deploy=1500, **params)


def keyword_intents(stream: PromptsStream) -> dict[str, int]:
    """word -> intent, for the offline and the unseen keywords (read from the lexicon, not the table)."""
    lex = stream.lexicon
    return {w: k for name in ("keywords", "unseen_keywords") for k, group in enumerate(lex[name]) for w in group}


@pytest.mark.parametrize("kind", ["none", "covariate", "label"])
def test_every_query_with_a_keyword_is_labelled_by_its_intent(kind):
    stream = prompts(kind, token_noise=0.0)
    data = stream.deploy()
    intents = keyword_intents(stream)
    found = 0
    for text, label in zip(stream.words(data.X), data.y.tolist()):
        seen = {intents[w] for w in text.split() if w in intents}
        assert len(seen) <= 1, text
        if seen:
            found += 1
            assert seen == {label}, (text, label)
    assert found > 0.6 * len(data)  # the ambiguous share (0.3) has no keyword


def test_ambiguous_queries_follow_the_prior():
    stream = prompts(token_noise=0.0)
    data = stream.deploy()
    intents = keyword_intents(stream)
    ambiguous = np.array([not any(w in intents for w in t.split()) for t in stream.words(data.X)])
    counts = np.bincount(data.y[ambiguous], minlength=stream.n_classes)
    assert stats.chisquare(counts, stream.prior * counts.sum()).pvalue > 1e-3
    assert ambiguous.mean() == pytest.approx(stream.ambiguous_share, abs=0.05)


@pytest.mark.parametrize("kind", ["covariate", "concept", "label", "novel"])
def test_severity_zero_draws_exactly_the_undrifted_stream(kind):
    undrifted, zero = prompts("none").deploy(), prompts(kind, severity=0.0).deploy()
    np.testing.assert_array_equal(zero.X, undrifted.X)
    np.testing.assert_array_equal(zero.y, undrifted.y)


def test_severity_zero_uses_the_offline_vocabulary_and_token_frequencies():
    stream = prompts("covariate", severity=0.0)
    offline, deploy = stream.offline(), stream.deploy()
    assert stream.oov_share(deploy.X).max() == 0
    size = len(stream.tokens)
    a = np.bincount(offline.X_train.astype(int).ravel(), minlength=size)
    b = np.bincount(deploy.X.astype(int).ravel(), minlength=size)
    used = (a + b) > 0
    assert stats.chi2_contingency(np.vstack([a[used], b[used]])).pvalue > 1e-3


def test_the_text_comes_back_from_the_token_ids():
    stream = prompts()
    text = stream.words(stream.deploy().X[:50])
    again = [stream.ids(t.split()) for t in text]
    np.testing.assert_array_equal([np.pad(ids, (0, stream.max_len - len(ids))) for ids in again],
                                  stream.deploy().X[:50].astype(int))
    assert stream.tokens[0] == "<pad>" and len(set(stream.tokens)) == len(stream.tokens)


def test_covariate_paraphrases_with_unseen_words_and_keeps_the_labels():
    stream = prompts("covariate", token_noise=0.0)
    data = stream.deploy()
    after = data.t >= 300
    assert stream.oov_share(data.X[~after]).max() == 0
    assert stream.oov_share(data.X[after]).mean() > 0.3
    unseen = {w: k for k, group in enumerate(stream.lexicon["unseen_keywords"]) for w in group}
    texts = stream.words(data.X[after])
    hits = [(unseen[w], y) for t, y in zip(texts, data.y[after]) for w in t.split() if w in unseen]
    assert len(hits) > 0.5 * after.sum() and all(k == y for k, y in hits)


def test_concept_relabels_the_same_queries():
    before, after = prompts("none"), prompts("concept")
    a, b = before.deploy(), after.deploy()
    np.testing.assert_array_equal(a.X, b.X)
    changed = a.y != b.y
    assert not changed[:300].any()
    assert np.all(b.y[changed] == (a.y[changed] + 1) % before.n_classes)
    # half the templates of the non-ambiguous share (0.7) change meaning
    assert changed[300:].mean() == pytest.approx(0.7 * 0.5, abs=0.05)


def test_novel_queries_use_no_offline_word_and_are_flagged():
    stream = prompts("novel")
    data = stream.deploy()
    assert not data.novel[:300].any()
    assert data.novel[300:].mean() == pytest.approx(stream.novel_share, abs=0.05)
    assert np.all(stream.oov_share(data.X[data.novel]) == 1.0)
    assert np.all(stream.oov_share(data.X[~data.novel]) == 0.0)


def test_label_shift_moves_the_intent_prior():
    stream = prompts("label")
    data = stream.deploy()
    share = np.bincount(data.y[300:], minlength=stream.n_classes) / len(data.y[300:])
    assert share[0] == pytest.approx(stream.minority_prior, abs=0.03)


# -- model=text ----------------------------------------------------------------------------------

def test_closed_vocabulary_maps_unseen_tokens_to_unk_and_padding_to_zero():
    train = np.array([[5, 9, 0], [9, 30, 2]], dtype=np.float32)
    net = build_network("text", n_features=3, n_classes=2, width=4, depth=1, inputs=train)
    rows = net.index(torch.tensor([[2, 5, 9, 30, 7, 0, 31, 1]], dtype=torch.float32)).tolist()[0]
    vocabulary = {token: i + 2 for i, token in enumerate(sorted({2, 5, 9, 30}))}  # 0 pad, 1 <unk>
    expected = [vocabulary.get(t, 1) if t else 0 for t in [2, 5, 9, 30, 7, 0, 31, 1]]
    assert rows == expected
    assert net.embedding.num_embeddings == len(vocabulary) + 2


def test_the_frozen_closed_vocabulary_cannot_tell_unseen_words_apart():
    train = np.array([[1, 2, 3, 0]], dtype=np.float32)
    net = build_network("text", n_features=4, n_classes=3, width=8, depth=1, inputs=train)
    a, b = predict_proba(net, np.array([[40, 41, 0, 0]])), predict_proba(net, np.array([[50, 0, 0, 0]]))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_hashed_vocabulary_spreads_ids_over_its_buckets_and_learns_unseen_words():
    net = build_network("text:hashed:1024", n_features=4, n_classes=2, width=8, depth=0)
    ids = torch.arange(1, 201, dtype=torch.float32)[:, None]
    rows = net.index(ids).ravel()
    assert rows.min() >= 1 and rows.max() <= 1024 and len(set(rows.tolist())) >= 190
    assert net.index(torch.zeros(1, 4)).tolist() == [[0, 0, 0, 0]]
    # a word never seen in training gets a row of its own, so a gradient step can teach it
    x = torch.tensor([[77, 0, 0, 0]], dtype=torch.float32)
    before = torch.softmax(net(x), 1)[0, 1].item()
    optimizer = torch.optim.SGD(net.parameters(), lr=1.0)
    for _ in range(20):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(x), torch.tensor([1])).backward()
        optimizer.step()
    assert torch.softmax(net(x), 1)[0, 1].item() > max(0.9, before)
    with pytest.raises(Exception, match="text:hashed:<buckets>"):
        build_network("text:hashed:many", n_features=4, n_classes=2, width=8, depth=0)


@pytest.mark.slow
@pytest.mark.parametrize("vocab", ["closed", "hashed"])
def test_export_and_cache_reproduce_the_frozen_text_model(tmp_path, vocab):
    overrides = ["stream=prompts", "model=text", f"model.vocab={vocab}", "strategy=[frozen]", "save_stream=true",
                 "offline.max_epochs=5"]
    for part in ("a", "b"):  # b loads the frozen model from the cache a stored
        run(compose_config(overrides), tmp_path / part)
    assert json.loads((tmp_path / "b" / "result.json").read_text())["offline_cache"] == "hit"
    deploy = pd.read_parquet(tmp_path / "b" / "stream_deploy.parquet")
    X = deploy[[f"x_{i}" for i in range(12)]].to_numpy(np.float32)
    served = pd.read_parquet(tmp_path / "b" / "predictions.parquet").query("strategy == 'frozen'")
    for part in ("a", "b"):
        proba = exported_proba(tmp_path / part / "frozen_model.pt2", X)
        np.testing.assert_allclose(proba, served[[f"p_{k}" for k in range(4)]].to_numpy(), atol=1e-6)
    stream = PromptsStream(DriftSchedule("covariate", "sudden", 1.0, 500, 0), n_offline=800, n_deploy=1200)
    assert deploy["text"].tolist() == stream.words(X)


@pytest.mark.slow
def test_unseen_words_cost_the_closed_vocabulary_its_accuracy():
    stream = prompts("covariate")
    offline, deploy = stream.offline(), stream.deploy()
    space = {"lr": [0.01], "batch_size": [32], "weight_decay": [0.0], "width": [32]}
    frozen = optimise_and_freeze(offline, model_kind="text", depth=1, n_classes=4, n_trials=1, max_epochs=20,
                                 patience=3, space=space, calibrate=True, seed=0)
    assert isinstance(frozen.module.net, TextNet)
    proba = predict_proba(frozen.module, deploy.X).numpy()
    right = proba.argmax(1) == deploy.y
    assert right[:300].mean() > 0.75
    assert right[:300].mean() - right[300:].mean() > 0.2


# -- River text baselines ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["river_text_nb", "river_text_logreg"])
def test_river_text_baselines_match_progressive_val_score(name):
    """The harness's replay of a River text pipeline gives River's own prequential accuracy on the
    same queries, warm-started on the same offline queries. (The strings are those of ``to_text``:
    River's default tokenizer would drop the one-letter words of the table, such as ``u`` and ``i``.)"""
    cfg = compose_config(["stream=prompts", "drift.kind=covariate", f"strategy=[{name}]"])
    stream = build_stream(cfg.stream, cfg.drift, cfg.seed)
    offline, deploy = stream.offline(), stream.deploy()
    strategy = build_strategies(cfg.strategy)[name]
    strategy.fit_offline(offline, None)
    proba = replay(deploy, {name: strategy}, n_classes=stream.n_classes, progress=False)[name].proba

    assert stream.n_classes > 2  # so the logistic regression is River's one-vs-rest over its binary model
    words = feature_extraction.BagOfWords()
    river_model = compose.Pipeline(words, naive_bayes.MultinomialNB()) if name == "river_text_nb" else (
        compose.Pipeline(words, multiclass.OneVsRestClassifier(linear_model.LogisticRegression())))
    for X, y in ((offline.X_train, offline.y_train), (offline.X_val, offline.y_val)):
        for text, label in zip(to_text(X), y.tolist()):
            river_model.learn_one(text, label)
    metric = evaluate.progressive_val_score(list(zip(to_text(deploy.X), deploy.y.tolist())), river_model,
                                            metrics.Accuracy())
    ours = (proba.argmax(axis=1) == deploy.y).mean()
    assert ours == pytest.approx(metric.get(), abs=1 / len(deploy))  # at most one tie broken otherwise


@pytest.mark.slow
@pytest.mark.parametrize("name", ["river_text_nb", "river_text_logreg"])
def test_river_text_baselines_keep_the_strategy_contract(name):
    cfg = compose_config(["stream=prompts", f"strategy=[{name}]", "stream.n_classes=3"])
    check_strategy(lambda: build_strategies(cfg.strategy)[name], name=name)


@pytest.mark.slow
def test_river_text_pipelines_grow_their_vocabulary_online():
    cfg = compose_config(["stream=prompts", "drift.kind=novel", "strategy=[river_text_nb]"])
    stream = build_stream(cfg.stream, cfg.drift, cfg.seed)
    offline, deploy = stream.offline(), stream.deploy()
    strategy = build_strategies(cfg.strategy)["river_text_nb"]
    strategy.fit_offline(offline, None)
    proba = replay(deploy, {"nb": strategy}, n_classes=stream.n_classes, progress=False)["nb"].proba
    right = proba.argmax(1) == deploy.y
    late_novel = deploy.novel & (deploy.t >= 900)
    assert right[late_novel].mean() > 0.8  # words never seen offline, learned from the stream


@pytest.mark.slow
def test_stream_view_shows_the_vocabulary_overlap(tmp_path):
    run(compose_config(["stream=prompts", "drift.kind=novel", "model=text", "strategy=[frozen]", "figures=true",
                        "offline.max_epochs=3"]), tmp_path)
    timeline = pd.read_csv(tmp_path / "stream_timeline.csv").drop_duplicates("t_end")
    before, after = timeline[timeline.t_end <= 500], timeline[timeline.t_end > 600]
    assert before.oov_share.max() == 0
    # novel queries (0.3 of them) have every token out of vocabulary
    assert after.oov_share.mean() == pytest.approx(0.3, abs=0.08)
    assert (tmp_path / "stream.png").stat().st_size > 10_000



def test_stream_view_reads_token_ids_as_names_not_numbers():
    """The stream view's projection and nearest-neighbour agreement read bags of words on a token
    stream: renaming the token ids changes neither (up to the sign of a principal axis); read as
    numbers, the raw ids give another picture."""
    stream = prompts("concept")
    offline, deploy = stream.offline(), stream.deploy()
    rename = np.concatenate([[0], 1 + np.random.default_rng(3).permutation(len(stream.tokens) - 1)]).astype(np.float32)
    renamed_offline = dataclasses.replace(offline, X_train=rename[offline.X_train.astype(int)],
                                          X_val=rename[offline.X_val.astype(int)])
    renamed_deploy = dataclasses.replace(deploy, X=rename[deploy.X.astype(int)])

    def view(offline, deploy, tokens):
        features = token_features(offline) if tokens else identity
        points = stream_points(offline, deploy, 300, features=features)
        timeline = stream_timeline(deploy, 4, window=300, offline=offline, features=features)
        return np.abs(points[["pc_0", "pc_1"]].to_numpy()), timeline.drop_duplicates("t_end").nn_agreement.to_numpy()

    for tokens in (True, False):
        (points, agreement), (renamed_points, renamed_agreement) = (view(offline, deploy, tokens),
                                                                    view(renamed_offline, renamed_deploy, tokens))
        if tokens:
            np.testing.assert_allclose(renamed_points, points, atol=1e-9)
            # many queries share one bag of words: which of the tied neighbours answers depends on the tree
            np.testing.assert_allclose(renamed_agreement, agreement, atol=0.05)
        else:
            assert not np.allclose(renamed_points, points, atol=1e-3)
    # the concept drift (a phrase changes its intent) shows in the agreement with the offline labels
    assert agreement[-1] < agreement[0] - 0.1

# -- the frozen text model's confidence, monitoring and memory ------------------------------------


def frozen_text(stream: PromptsStream, max_epochs: int = 20):
    """The frozen closed-vocabulary text model of ``stream``'s offline queries (one trial, seconds), with
    the hyper-parameters the default search picks on the default stream (seed 0)."""
    space = {"lr": [0.001], "batch_size": [32], "weight_decay": [1e-4], "width": [32]}
    return optimise_and_freeze(
        stream.offline(),
        model_kind="text",
        depth=1,
        n_classes=stream.n_classes,
        n_trials=1,
        max_epochs=max_epochs,
        patience=3,
        space=space,
        calibrate=True,
        seed=0,
    )


@pytest.mark.slow
@pytest.mark.parametrize("ambiguous_share", [0.3, 0.0])
def test_unseen_paraphrases_are_answered_confidently_only_without_ambiguous_offline_queries(ambiguous_share):
    """Offline queries with no keyword (labelled by the prior) teach the model to hedge when it
    recognises no intent word; an unseen paraphrase (its keywords ``<unk>``, a vector no query trained,
    among familiar fillers and slot words) lands there after mean pooling. A model that never saw such
    queries answers the paraphrases with confidence >= 0.9, mostly wrongly (docs/streams.md)."""
    stream = prompts("covariate", ambiguous_share=ambiguous_share)
    proba = predict_proba(frozen_text(stream).module, stream.deploy().X).numpy()
    after = stream.deploy().t >= 300
    wrong = proba.argmax(1) != stream.deploy().y
    confident_errors = (wrong & (proba.max(1) >= 0.9))[after].mean()
    if ambiguous_share > 0:
        assert confident_errors < 0.05
    else:
        assert confident_errors > 0.25


@pytest.mark.slow
def test_novel_queries_score_higher_on_the_pooled_features():
    """The Mahalanobis score reads the frozen model's pooled features: queries whose every word is out
    of vocabulary are farther from every intent than the offline-like ones (AUROC from scipy's U)."""
    stream = prompts("novel")
    offline, deploy = stream.offline(), stream.deploy()
    module = frozen_text(stream).module
    reference = Reference.build(module, offline, stream.n_classes, tokens=True)
    scores = watch(module, reference, deploy.X, window=300, alpha=0.01, seed=0, n_permutations=20).scores
    u = stats.mannwhitneyu(scores["mahalanobis"][deploy.novel], scores["mahalanobis"][~deploy.novel]).statistic
    assert u / (deploy.novel.sum() * (~deploy.novel).sum()) > 0.9


def test_input_detectors_read_token_ids_as_names_not_numbers():
    """Renaming the token ids (a bijection; the order of the table means nothing) leaves the input
    detectors' statistics and p-values unchanged on a token stream, where they read bags of words;
    read as numbers (``tokens=False``), the raw ids give other answers."""
    stream = prompts("covariate")
    offline, deploy = stream.offline(), stream.deploy()
    rename = np.concatenate([[0], 1 + np.random.default_rng(7).permutation(len(stream.tokens) - 1)]).astype(np.float32)

    def input_detectors(offline, X, *, tokens):
        net = build_network("text", n_features=12, n_classes=4, width=8, depth=1, inputs=offline.X_train)
        module = Calibrated(net, 1.0)
        reference = Reference.build(module, offline, stream.n_classes, tokens=tokens)
        alarms = watch(module, reference, X, window=500, alpha=0.01, seed=0, n_permutations=20).alarms
        return alarms[alarms.detector.isin(["ks_inputs", "mmd_inputs"])][["statistic", "p_value"]].to_numpy()

    renamed_offline = dataclasses.replace(offline, X_train=rename[offline.X_train.astype(int)],
                                          X_val=rename[offline.X_val.astype(int)])
    for tokens in (True, False):
        plain = input_detectors(offline, deploy.X, tokens=tokens)
        renamed = input_detectors(renamed_offline, rename[deploy.X.astype(int)], tokens=tokens)
        if tokens:
            np.testing.assert_allclose(renamed, plain, rtol=1e-6)
        else:
            assert not np.allclose(renamed, plain, rtol=1e-6)


@pytest.mark.slow
def test_a_token_run_records_what_its_input_detectors_read(tmp_path):
    run(compose_config(["stream=prompts", "drift.kind=novel", "model=text", "strategy=[frozen]", "save_stream=true",
                        "offline.max_epochs=3"]), tmp_path)
    monitoring = json.loads((tmp_path / "result.json").read_text())["monitoring"]["frozen"]
    offline = pd.read_parquet(tmp_path / "stream_offline.parquet").filter(like="x_").to_numpy()
    words = set(offline.ravel().tolist()) - {0}
    assert monitoring["input_detectors_read"].startswith(f"bag of words: counts of the {len(words)} offline token ids")


def test_the_memory_estimate_counts_the_text_network():
    """The footprint's parameter count is the module's own: exact with hashed buckets, an upper bound
    with a closed vocabulary (the stream's whole token table against the ids the training rows hold)."""
    stream = prompts()
    train = stream.offline().X_train
    for vocab in ("hashed", "closed"):
        model = SimpleNamespace(vocab=vocab, buckets=64, depth=2)
        kind = "text:hashed:64" if vocab == "hashed" else "text"
        net = build_network(kind, n_features=12, n_classes=4, width=16, depth=2, inputs=train)
        counted = sum(text_parameters(text_rows(model, stream), width=16, depth=2, n_classes=4))
        actual = sum(p.numel() for p in net.parameters())
        assert counted == actual if vocab == "hashed" else counted >= actual
    cfg = compose_config(["stream=prompts", "model=text", "model.vocab=hashed", "model.buckets=100000000",
                          "strategy=[frozen]"])
    refused = r"^model.buckets=100000000 needs about .*\(the text network's embedding: 100000001 rows"
    with pytest.raises(ConfigError, match=refused):
        preflight(cfg)


@pytest.mark.slow
def test_retrain_on_alarm_reads_token_ids_as_names():
    """``retrain_on_alarm`` served by the text model tests bags of words: renaming the ids of its
    reference and of the served queries gives the same alarms, none before the onset; the
    out-of-vocabulary count sees a mild paraphrase drift (severity 0.3) that raw ids miss."""
    stream = prompts("covariate", severity=0.3)
    offline, deploy = stream.offline(), stream.deploy()
    pretrained = frozen_text(stream, max_epochs=2)  # the input detectors do not read the model
    rename = np.concatenate([[0], 1 + np.random.default_rng(7).permutation(len(stream.tokens) - 1)]).astype(np.float32)

    def alarms(offline, X):
        strategy = RetrainOnAlarm(detector="ks_inputs", window=150, labels_per_alarm=10_000, max_epochs=2)
        strategy.fit_offline(offline, pretrained)
        for start in range(0, len(X), 50):
            strategy.predict_proba(X[start:start + 50])
        return strategy.alarms

    plain = alarms(offline, deploy.X)
    renamed = dataclasses.replace(offline, X_train=rename[offline.X_train.astype(int)],
                                  X_val=rename[offline.X_val.astype(int)])
    assert alarms(renamed, rename[deploy.X.astype(int)]) == plain
    assert plain and plain[0] >= 300
