"""The ``prompts`` family: synthetic user queries as token sequences, for text models.

Each of ``n_classes`` intents has ``n_templates`` offline templates ("the prompts the engineers
imagined") made of intent keywords, filler words and slots (``{object}``, ``{time}``) filled from
slot vocabularies; ``ambiguous_share`` of the queries use templates shared by every intent (no
keyword: only the intent prior decides them). A query is drawn as: intent ``y`` from the prior
(class 0 has ``offline_majority``), a template of ``y`` (or an ambiguous one), its slots filled, each
token replaced by a random offline filler or slot word with chance ``token_noise``. Labels come from
the templates, so every label is exactly known.

Representation: ``X`` is float32 ``(n, max_len)`` of token ids into the stream's token table
(:attr:`PromptsStream.tokens`, id 0 = ``<pad>``), left-aligned and padded with 0; :meth:`words`
turns rows back into text. Id order carries no meaning (the table is built per seed): the class
declares the tag ``inputs="tokens"``, so the run refuses models and learners that would compute with the
ids as numbers and its input-space monitors read bags of words.

Drift, at full strength (``severity * amount = 1``):

- ``covariate``: every query that has a keyword comes from an unseen paraphrase template of its
  intent (unseen keywords, offline and unseen fillers, slots from the offline and unseen slot
  words); the chance of an unseen template is ``severity * amount``; the ambiguous queries stay as
  they were, so intents keep their meaning and the Bayes error its value.
- ``concept``: the queries of ``concept_share`` of each intent's offline templates (the "phrases")
  now mean the next intent (``(y + 1) mod K``), each with chance ``severity * amount``.
- ``label``: the intent prior moves to the target prior (class 0 the minority with
  ``minority_prior``); ``P(x | y)`` is unchanged.
- ``novel``: ``novel_share * severity`` of the drifting queries are about a new topic: templates
  whose every word (slots included) is out of the offline vocabulary, labelled by the intent of
  their template, flagged ``novel``.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from harness.streams.base import (
    DeployData,
    DriftSchedule,
    OfflineData,
    check_count,
    check_fraction,
    deploy_data,
    split_offline,
)
from harness.streams.shift import check_minority_prior, draw_classes, majority_prior, target_prior
from harness.streams.stream import Stream

_LEXICON, _OFFLINE, _DEPLOY, _POST = range(4)
PAD = "<pad>"
SEEN, UNSEEN, AMBIGUOUS, NOVEL = range(4)  # template groups
GROUPS = ("seen", "unseen", "ambiguous", "novel")
OBJECT, TIME = -1, -2  # slot codes in the template table
FILLERS = ("please", "my", "i", "want", "to", "the", "can", "you", "help", "me", "with", "a", "for", "now")
UNSEEN_FILLERS = ("pls", "plz", "u", "ur", "wanna", "gonna", "hey", "kindly", "yo", "thx")
_CONSONANTS, _VOWELS = "bdfgklmnprstvz", "aeiou"


class PromptsStream(Stream):
    family = "prompts"
    kinds = ("none", "covariate", "concept", "label", "novel")
    _more_tags = {"inputs": "tokens", "post_drift": True, "token_table": True}

    def __init__(
        self,
        schedule: DriftSchedule,
        *,
        n_classes: int = 4,
        max_len: int = 12,
        n_templates: int = 4,
        n_keywords: int = 4,
        n_objects: int = 16,
        n_times: int = 6,
        ambiguous_share: float = 0.3,
        token_noise: float = 0.05,
        offline_majority: float = 0.55,
        minority_prior: float = 0.05,
        concept_share: float = 0.5,
        novel_share: float = 0.3,
        **common,
    ):
        check_count("stream.n_classes", n_classes, 2)
        check_count("stream.max_len", max_len, 6)
        check_count("stream.n_templates", n_templates, 1)
        check_count("stream.n_keywords", n_keywords, 1)
        check_count("stream.n_objects", n_objects, 1)
        check_count("stream.n_times", n_times, 1)
        super().__init__(schedule, **common)
        check_fraction("stream.ambiguous_share", ambiguous_share, open_low=False)
        check_fraction("stream.token_noise", token_noise, open_low=False)
        check_fraction("stream.concept_share", concept_share, open_low=False, open_high=False)
        check_fraction("stream.novel_share", novel_share, open_high=False)
        check_minority_prior(minority_prior, n_classes)
        self.prior = majority_prior(offline_majority, n_classes)
        self.n_classes, self.max_len, self.n_templates, self.n_keywords = n_classes, max_len, n_templates, n_keywords
        self.n_objects, self.n_times = n_objects, n_times
        self.ambiguous_share, self.token_noise = ambiguous_share, token_noise
        self.offline_majority, self.minority_prior = offline_majority, minority_prior
        self.concept_share, self.novel_share = concept_share, novel_share
        self.n_features = max_len

    # -- the lexicon ------------------------------------------------------------------------

    @cached_property
    def lexicon(self) -> dict:
        """The word lists: ``keywords`` / ``unseen_keywords`` (one list per intent), ``objects``,
        ``times``, ``unseen_objects``, ``unseen_times``, ``novel`` (the new topic's words), ``fillers``
        and ``unseen_fillers``; pseudo-words drawn from the seed, all distinct."""
        rng = self.rng(_LEXICON)
        k, m = self.n_classes, self.n_keywords
        sizes = {"keywords": k * m, "unseen_keywords": k * m, "objects": self.n_objects, "times": self.n_times,
                 "unseen_objects": self.n_objects, "unseen_times": self.n_times, "novel": 2 * k * m + self.n_objects}
        taken = set(FILLERS) | set(UNSEEN_FILLERS)
        words = {}
        for name, size in sizes.items():
            words[name] = [_pseudo_word(rng, taken) for _ in range(size)]
        for name in ("keywords", "unseen_keywords"):
            words[name] = [words[name][i * m:(i + 1) * m] for i in range(k)]
        return {**words, "fillers": list(FILLERS), "unseen_fillers": list(UNSEEN_FILLERS)}

    @cached_property
    def tokens(self) -> list[str]:
        """The token table: ``tokens[id]`` is the word of token id ``id``; id 0 is ``<pad>``."""
        lex = self.lexicon
        flat = [w for group in lex["keywords"] for w in group] + [w for group in lex["unseen_keywords"] for w in group]
        return [PAD, *lex["fillers"], *flat, *lex["objects"], *lex["times"], *lex["unseen_fillers"],
                *lex["unseen_objects"], *lex["unseen_times"], *lex["novel"]]

    @cached_property
    def token_id(self) -> dict[str, int]:
        return {word: i for i, word in enumerate(self.tokens)}

    def ids(self, words) -> np.ndarray:
        """Token ids of ``words`` (a list of strings)."""
        return np.array([self.token_id[w] for w in words], dtype=np.int64)

    def words(self, X: np.ndarray) -> list[str]:
        """Each row of token ids ``(n, max_len)`` as its text (padding dropped)."""
        table = np.array(self.tokens, dtype=object)
        return [" ".join(table[row[row > 0]]) for row in np.asarray(X, dtype=np.int64)]

    def offline_vocabulary(self) -> np.ndarray:
        """The ids a query of the offline distribution can contain (keywords, fillers, slot words)."""
        lex = self.lexicon
        return np.sort(self.ids([w for g in lex["keywords"] for w in g] + lex["fillers"] + lex["objects"]
                                + lex["times"]))

    @cached_property
    def templates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The template table ``(T, max_len)`` (token ids, slot codes -1 object / -2 time, 0 padding),
        each template's intent ``(T,)`` (-1 for an ambiguous one) and group ``(T,)`` (SEEN, UNSEEN,
        AMBIGUOUS, NOVEL). Per group the templates of intent ``k`` are rows ``k * n_templates ...``."""
        rng = self.rng(_LEXICON, 1)
        lex = self.lexicon
        rows, intents, groups = [], [], []
        novel_words = lex["novel"][: 2 * self.n_classes * self.n_keywords]
        for group in (SEEN, UNSEEN, AMBIGUOUS, NOVEL):
            for k in range(self.n_classes if group != AMBIGUOUS else 1):
                for _ in range(self.n_templates):
                    if group == SEEN:
                        items = self._template(rng, lex["keywords"][k], lex["fillers"], time=True)
                    elif group == UNSEEN:
                        items = self._template(rng, lex["unseen_keywords"][k], lex["fillers"] + lex["unseen_fillers"],
                                               time=True)
                    elif group == AMBIGUOUS:
                        items = self._template(rng, [], lex["fillers"], time=True)
                    else:
                        own = novel_words[2 * k * self.n_keywords:2 * (k + 1) * self.n_keywords]
                        items = self._template(rng, own, novel_words, time=False)
                    row = np.zeros(self.max_len, dtype=np.int64)
                    row[: len(items)] = [slot if isinstance(slot, int) else self.token_id[slot] for slot in items]
                    rows.append(row)
                    intents.append(-1 if group == AMBIGUOUS else k)
                    groups.append(group)
        return np.array(rows), np.array(intents), np.array(groups)

    def _template(self, rng, keywords: list[str], fillers: list[str], *, time: bool) -> list:
        """A template: 1-2 keywords, an object slot, maybe a time slot, 1-3 fillers, shuffled; at
        most ``max_len`` items."""
        items: list = [keywords[i] for i in rng.choice(len(keywords), size=rng.integers(1, 3))] if keywords else []
        items.append(OBJECT)
        if time and rng.random() < 0.5:
            items.append(TIME)
        items += [fillers[i] for i in rng.choice(len(fillers), size=rng.integers(1, 4))]
        items = [items[i] for i in rng.permutation(len(items))]
        return items[: self.max_len]

    def _pools(self) -> dict[tuple[int, int], np.ndarray]:
        """The words each slot of each group is filled from: ``(group, slot code) -> ids``."""
        lex = self.lexicon
        objects, times = self.ids(lex["objects"]), self.ids(lex["times"])
        wider_objects = np.concatenate([objects, self.ids(lex["unseen_objects"])])
        wider_times = np.concatenate([times, self.ids(lex["unseen_times"])])
        novel_objects = self.ids(lex["novel"][2 * self.n_classes * self.n_keywords:])
        return {(SEEN, OBJECT): objects, (SEEN, TIME): times, (AMBIGUOUS, OBJECT): objects, (AMBIGUOUS, TIME): times,
                (UNSEEN, OBJECT): wider_objects, (UNSEEN, TIME): wider_times,
                (NOVEL, OBJECT): novel_objects, (NOVEL, TIME): novel_objects}

    # -- the data ---------------------------------------------------------------------------

    def offline(self) -> OfflineData:
        data = self._draw(DriftSchedule("none", "none", 0.0, 0, 0), self.n_offline, _OFFLINE)
        return split_offline(data.X, data.y, self.val_fraction)

    def deploy(self) -> DeployData:
        return self._draw(self.schedule, self.n_deploy, _DEPLOY)

    def post_drift(self) -> OfflineData:
        """``n_offline`` fresh queries of the concept after the drift, at the run's severity, from
        their own RNG stream (what an oracle trains on)."""
        data = self._draw(self.post_drift_schedule(), self.n_offline, _POST)
        return split_offline(data.X, data.y, self.val_fraction)

    def _draw(self, s: DriftSchedule, n: int, purpose: int) -> DeployData:
        """``n`` queries of the schedule ``s``; every draw is made whatever the kind, so that runs
        differing only in their schedule share the rest."""
        rng = self.rng(purpose)
        kind_rng = self.rng(purpose, 1)
        share = s.amount(np.arange(n), rng)
        amount = share * s.severity if s.kind != "none" else np.zeros(n)
        y = rng.choice(self.n_classes, size=n, p=self.prior)
        wanted = draw_classes(amount, target_prior(self.n_classes, self.minority_prior), kind_rng)
        if s.kind == "label":
            y = np.where(wanted >= 0, wanted, y)
        ambiguous = rng.random(n) < self.ambiguous_share
        which = rng.integers(0, self.n_templates, size=n)
        shifted = kind_rng.random(n) < amount
        novel = (kind_rng.random(n) < share * self.novel_share * s.severity) & (s.kind == "novel")
        group = np.where(ambiguous, AMBIGUOUS, SEEN)
        if s.kind == "covariate":  # the ambiguous queries stay as they were: no intent gains a keyword
            group = np.where(shifted & ~ambiguous, UNSEEN, group)
        group = np.where(novel, NOVEL, group)
        table, _, groups = self.templates
        first = {g: int(np.flatnonzero(groups == g)[0]) for g in range(4)}
        offset = np.array([first[g] for g in range(4)])[group]
        index = offset + np.where(group == AMBIGUOUS, which, y * self.n_templates + which)
        x = table[index].copy()
        for (g, code), pool in self._pools().items():
            picks = pool[rng.integers(0, len(pool), size=n)]
            at = (x == code) & (group == g)[:, None]
            x[at] = np.broadcast_to(picks[:, None], x.shape)[at]
        noise_words = self.ids(self.lexicon["fillers"] + self.lexicon["objects"] + self.lexicon["times"])
        noisy = (rng.random(x.shape) < self.token_noise) & (x > 0) & ~novel[:, None]
        x[noisy] = noise_words[rng.integers(0, len(noise_words), size=x.shape)][noisy]
        if s.kind == "concept":
            phrase = (group == SEEN) & (which < round(self.concept_share * self.n_templates))
            y = np.where(phrase & shifted, (y + 1) % self.n_classes, y)
        return deploy_data(s, x.astype(np.float32), y, novel)  # token ids as float32 rows (the module docstring)

    def oov_share(self, X: np.ndarray) -> np.ndarray:
        """Per row of ``X``, the share of its tokens outside the offline vocabulary ``(n,)``."""
        X = np.asarray(X, dtype=np.int64)
        real = X > 0
        unknown = real & ~np.isin(X, self.offline_vocabulary())
        return unknown.sum(axis=1) / np.maximum(real.sum(axis=1), 1)

    def details(self) -> dict:
        """The drift in concrete units and the token table, for ``stream.json``."""
        s = self.schedule
        units = {
            "covariate": {"unseen_template_share": s.severity * (1 - self.ambiguous_share)},
            "concept": {"changed_phrases_per_intent": round(self.concept_share * self.n_templates),
                        "chance": s.severity},
            "label": {"target_prior": (s.severity * target_prior(self.n_classes, self.minority_prior)
                                       + (1 - s.severity) * self.prior).tolist()},
            "novel": {"share": self.novel_share * s.severity},
        }
        return {"drift_units": units.get(s.kind, {}), "tokens": self.tokens,
                "offline_vocabulary_size": len(self.offline_vocabulary())}


def _pseudo_word(rng: np.random.Generator, taken: set) -> str:
    """A new pronounceable word of 2-3 consonant-vowel syllables, not in ``taken`` (added to it)."""
    while True:
        word = "".join(_CONSONANTS[rng.integers(len(_CONSONANTS))] + _VOWELS[rng.integers(len(_VOWELS))]
                       for _ in range(rng.integers(2, 4)))
        if word not in taken:
            taken.add(word)
            return word
