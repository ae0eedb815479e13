"""What the bot does not understand: the user messages that got a fallback, grouped into candidate missing intents.

:func:`cluster_texts` groups any list of short texts; :func:`fallback_clusters` asks the warehouse for the fallback
texts of a period (deduplicated with their counts, so a large log never puts every row in Python) and adds each
group's weekly trend.

The method (see docs/chatbot.md for its validation on BANKING77):

1. texts are compared after lower-casing and collapsing spaces; the same text typed twice is one point with a count;
2. each text becomes TF-IDF weights of its character 2- to 4-grams within word boundaries (so "card", "cards" and
   "carded" share most of their features, and a typo costs little) next to TF-IDF weights of its words (English stop
   words removed, so "slot for a demo" meets "book a demo"), the two blocks weighing the same; reduced to at most
   100 latent dimensions (truncated SVD, "latent semantic analysis") and scaled to unit length;
3. k-means groups them, for every k from 2 to ``max_clusters`` (every value up to 15, then about 10% apart), and the
   k with the highest mean silhouette (cosine) wins: the grouping whose texts sit closest to their own group
   relative to the nearest other one;
4. each group is labelled by the words (word TF-IDF, English stop words removed) that weigh most in it compared with
   the other groups, and shown with its most frequent texts.

Everything is seeded (``seed``) and single-threaded, so the same texts give the same groups on every run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt

from insights.chatbot import _queries as q
from insights.chatbot._checks import check_connection, period_text
from insights.errors import invalid_parameter
from insights.params import check_int, check_open_unit, check_period
from insights.results import TableResult, format_number, format_percent
from insights.warehouse.connection import first_row

if TYPE_CHECKING:
    import duckdb

__all__ = ["FallbackCluster", "FallbackClusters", "TextCluster", "TextClusters", "cluster_texts", "fallback_clusters"]

#: LSA dimensions (fewer when there are fewer texts or features)
MAX_COMPONENTS = 100
#: silhouettes are computed on at most this many texts (a seeded sample beyond it)
SILHOUETTE_SAMPLE = 2000
_NGRAMS = (2, 4)
#: a word: two or more letters (digits and redaction brackets are not words)
_WORD = r"(?u)\b[^\W\d_][^\W\d_]+\b"
_KMEANS_RESTARTS = 3


@dataclass(frozen=True)
class TextCluster:
    """One group of texts: its label words, size and most frequent texts.

    ``n_messages`` counts messages (a text sent five times counts five); ``n_texts`` the distinct texts;
    ``texts`` holds every distinct text with its count, most frequent first.
    """

    cluster_id: int
    label: str
    top_terms: tuple[str, ...]
    n_messages: int
    share: float
    n_texts: int
    examples: tuple[str, ...]
    texts: tuple[tuple[str, int], ...]

    def row(self) -> dict[str, Any]:
        return {
            "cluster_id": self.cluster_id,
            "label": self.label,
            "n_messages": self.n_messages,
            "share": self.share,
            "n_texts": self.n_texts,
            "top_terms": ", ".join(self.top_terms),
            "examples": " | ".join(self.examples),
        }


_Cluster = TypeVar("_Cluster", bound=TextCluster)


def _find_cluster(clusters: tuple[_Cluster, ...], cluster_id: int) -> _Cluster:
    for c in clusters:
        if c.cluster_id == cluster_id:
            return c
    raise KeyError(f"No cluster {cluster_id}; clusters: 1 to {len(clusters)}")


@dataclass(frozen=True)
class TextClusters(TableResult):
    """Texts grouped by :func:`cluster_texts`, largest group first.

    ``labels`` gives the ``cluster_id`` of each input text, in input order (-1 for a text with nothing to compare:
    empty or punctuation only). ``k_scores`` holds the mean silhouette of every k tried; ``note`` is
    ``no_texts``, ``too_few_texts`` (fewer than three distinct texts: one group) or None.
    """

    clusters: tuple[TextCluster, ...]
    labels: tuple[int, ...]
    n_clusters: int
    silhouette: float
    k_scores: tuple[tuple[int, float], ...]
    seed: int
    note: str | None = None

    @property
    def title(self) -> str:
        return "Text clusters"

    def cluster(self, cluster_id: int) -> TextCluster:
        return _find_cluster(self.clusters, cluster_id)

    def rows(self) -> list[dict[str, Any]]:
        return [c.row() for c in self.clusters]

    def summary_lines(self) -> list[str]:
        if not self.clusters:
            return ["No texts to group."]
        n = sum(c.n_messages for c in self.clusters)
        how = (
            f"k = {self.n_clusters} chosen by silhouette ({self.silhouette:.3f})"
            if len(self.k_scores) > 1
            else f"k = {self.n_clusters}"
        )
        n_texts = sum(c.n_texts for c in self.clusters)
        return [f"{n:,} messages ({n_texts:,} distinct texts) in {self.n_clusters} groups; {how}."]

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        headers = ["cluster", "label", "messages", "share", "texts", "examples"]
        cells = [
            [
                str(c.cluster_id),
                c.label,
                format_number(c.n_messages),
                format_percent(c.share),
                format_number(c.n_texts),
                " | ".join(c.examples),
            ]
            for c in self.clusters
        ]
        return headers, cells


def _normal_form(text: str) -> str:
    return " ".join(text.lower().split()).strip(" .!?,;:")


def _candidates(high: int) -> list[int]:
    """k values to try: every one from 2 to 15, then about 10% apart, up to ``high``."""
    ks = list(range(2, min(high, 15) + 1))
    k = 15
    while k < high:
        k = min(high, max(k + 1, round(k * 1.1)))
        ks.append(k)
    return ks


def cluster_texts(
    texts: Sequence[str],
    counts: Sequence[int] | None = None,
    *,
    n_clusters: int | None = None,
    max_clusters: int = 30,
    seed: int = 0,
    n_examples: int = 3,
    n_terms: int = 4,
) -> TextClusters:
    """Group short texts (user messages, utterances) by what they say.

    ``counts`` gives how often each text occurred (default once each). ``n_clusters`` fixes k; otherwise k is chosen
    by silhouette among 2 .. ``max_clusters``. Needs scikit-learn (the ``models`` extra).

    Example::

        texts = ["refund please", "I want a refund", "track my parcel", "where is my parcel"]
        groups = cluster_texts(texts, n_clusters=2)
        [c.examples for c in groups.clusters]  # [('I want a refund', 'refund please'), ('track my parcel', ...)]
        groups.labels                          # (1, 1, 2, 2): the group of each text, in input order
    """
    function = "cluster_texts"
    if isinstance(texts, str) or not isinstance(texts, Sequence) or not all(isinstance(t, str) for t in texts):
        raise invalid_parameter("texts", function, "must be a sequence of strings", type(texts).__name__)
    given: object = counts
    if given is None:
        weights = [1] * len(texts)
    elif (
        isinstance(given, list | tuple | np.ndarray)
        and len(given) == len(texts)
        and all(isinstance(c, int | np.integer) and not isinstance(c, bool) and c >= 1 for c in given)
    ):
        weights = [int(c) for c in given]
    else:
        rule = f"must hold one integer >= 1 per text ({len(texts)})"
        raise invalid_parameter("counts", function, rule, _short(given))
    if n_clusters is not None:
        check_int("n_clusters", function, n_clusters, 1)
    check_int("max_clusters", function, max_clusters, 2)
    check_int("seed", function, seed, 0)
    check_int("n_examples", function, n_examples, 1)
    check_int("n_terms", function, n_terms, 1)

    # one point per distinct normal form, in an order that does not depend on the input's
    totals: dict[str, int] = {}
    shown: dict[str, dict[str, int]] = {}
    for text, weight in zip(texts, weights, strict=True):
        key = _normal_form(text)
        if key:
            totals[key] = totals.get(key, 0) + weight
            forms = shown.setdefault(key, {})
            forms[text.strip()] = forms.get(text.strip(), 0) + weight
    keys = sorted(totals, key=lambda k: (-totals[k], k))
    if not keys:
        return TextClusters((), tuple(-1 for _ in texts), 0, math.nan, (), seed, "no_texts")
    display = [min(shown[k].items(), key=lambda item: (-item[1], item[0]))[0] for k in keys]
    count = np.array([totals[k] for k in keys], dtype=np.int64)

    note = None
    if n_clusters is not None:
        assignment, silhouette, scores = _fit(keys, [min(n_clusters, len(keys))], seed)
    elif len(keys) < 3:
        assignment, silhouette, scores, note = np.zeros(len(keys), dtype=np.int64), math.nan, [], "too_few_texts"
    else:
        assignment, silhouette, scores = _fit(keys, _candidates(min(max_clusters, len(keys) - 1)), seed)
    terms = _top_terms(keys, count, assignment, n_terms)

    # number the groups by size, largest first
    k = int(assignment.max()) + 1
    sizes = np.bincount(assignment, weights=count, minlength=k)
    order = sorted(range(k), key=lambda g: (-sizes[g], display[int(np.flatnonzero(assignment == g)[0])]))
    number = {g: i + 1 for i, g in enumerate(order)}
    total = int(count.sum())
    clusters = []
    for g in order:
        members = np.flatnonzero(assignment == g)  # already most frequent first
        members_texts = tuple((display[i], int(count[i])) for i in members)
        label_terms = terms[g]
        clusters.append(
            TextCluster(
                cluster_id=number[g],
                label=" / ".join(label_terms[:3]) if label_terms else display[int(members[0])],
                top_terms=label_terms,
                n_messages=int(sizes[g]),
                share=float(sizes[g]) / total,
                n_texts=len(members),
                examples=tuple(t for t, _ in members_texts[:n_examples]),
                texts=members_texts,
            )
        )
    index = {key: number[int(assignment[i])] for i, key in enumerate(keys)}
    labels = tuple(index.get(_normal_form(t), -1) for t in texts)
    return TextClusters(tuple(clusters), labels, k, silhouette, tuple(scores), seed, note)


def _short(value: object) -> object:
    """The value itself, or the start of its repr when that is long."""
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."


def _features(keys: list[str], seed: int) -> Any:
    from insights._optional import require

    text = require("sklearn.feature_extraction.text", "models")
    decomposition = require("sklearn.decomposition", "models")
    preprocessing = require("sklearn.preprocessing", "models")
    sparse = require("scipy.sparse", "models")
    blocks = [text.TfidfVectorizer(analyzer="char_wb", ngram_range=_NGRAMS, sublinear_tf=True).fit_transform(keys)]
    with contextlib.suppress(ValueError):  # no word outside the stop words: the characters alone
        blocks.append(_word_vectorizer().fit_transform(keys))
    # each block has unit rows, so characters and words weigh the same
    matrix = sparse.hstack(blocks).tocsr()
    components = min(MAX_COMPONENTS, len(keys) - 1, matrix.shape[1] - 1)
    if components < 2:
        return preprocessing.normalize(matrix)
    reduced = decomposition.TruncatedSVD(n_components=components, random_state=seed).fit_transform(matrix)
    return preprocessing.normalize(reduced)


def _word_vectorizer() -> Any:
    from insights._optional import require

    text = require("sklearn.feature_extraction.text", "models")
    return text.TfidfVectorizer(stop_words="english", token_pattern=_WORD, sublinear_tf=True)


def _fit(keys: list[str], ks: list[int], seed: int) -> tuple[npt.NDArray[np.int64], float, list[tuple[int, float]]]:
    """The k-means grouping with the best silhouette among ``ks`` (the first k on a tie)."""
    from insights._optional import require

    cluster = require("sklearn.cluster", "models")
    metrics = require("sklearn.metrics", "models")
    exceptions = require("sklearn.exceptions", "models")
    threadpoolctl = require("threadpoolctl", "models")

    features = _features(keys, seed)
    sample = None if len(keys) <= SILHOUETTE_SAMPLE else SILHOUETTE_SAMPLE
    best: tuple[float, npt.NDArray[np.int64]] | None = None
    scores: list[tuple[int, float]] = []
    # on a few thousand short texts, threads cost more than they save (on a busy 2-core machine, one k-means fit
    # took 1.2 s with threads and 0.04 s without)
    with threadpoolctl.threadpool_limits(limits=1), warnings.catch_warnings():
        # identical texts give fewer distinct points than k: k-means says so, and the silhouette judges the result
        warnings.simplefilter("ignore", exceptions.ConvergenceWarning)
        for k in ks:
            labels = cluster.KMeans(n_clusters=k, n_init=_KMEANS_RESTARTS, random_state=seed).fit_predict(features)
            labels = np.unique(labels, return_inverse=True)[1].astype(np.int64)
            if len(ks) == 1:
                found = len(np.unique(labels))
                score = (
                    float(metrics.silhouette_score(features, labels, metric="cosine"))
                    if 1 < found < len(keys)
                    else math.nan
                )
                return labels, score, [(k, score)]
            if not 1 < len(np.unique(labels)) < len(keys):
                continue
            score = float(
                metrics.silhouette_score(features, labels, metric="cosine", sample_size=sample, random_state=seed)
            )
            scores.append((k, score))
            if best is None or score > best[0]:
                best = (score, labels)
    if best is None:
        return np.zeros(len(keys), dtype=np.int64), math.nan, scores
    return best[1], best[0], scores


def _top_terms(
    keys: list[str], count: npt.NDArray[np.int64], assignment: npt.NDArray[np.int64], n_terms: int
) -> dict[int, tuple[str, ...]]:
    """Per group, the words that weigh most in its texts compared with the other texts (message-weighted)."""

    groups = sorted(set(assignment.tolist()))
    vectorizer = _word_vectorizer()
    try:
        matrix = vectorizer.fit_transform(keys)
    except ValueError:  # nothing but stop words, digits and punctuation
        return dict.fromkeys(groups, ())
    vocabulary = np.array(vectorizer.get_feature_names_out())
    weight = count.astype(np.float64)
    out: dict[int, tuple[str, ...]] = {}
    for g in groups:
        inside = assignment == g
        mean_in = np.asarray(matrix[inside].T @ weight[inside]).ravel() / weight[inside].sum()
        rest = ~inside
        mean_out = (
            np.asarray(matrix[rest].T @ weight[rest]).ravel() / weight[rest].sum()
            if rest.any()
            else np.zeros(len(vocabulary))
        )
        score = mean_in - mean_out
        ranked = sorted(np.flatnonzero(score > 0), key=lambda j: (-score[j], vocabulary[j]))
        out[g] = tuple(str(vocabulary[j]) for j in ranked[:n_terms])
    return out


# --- the fallback texts of a period -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FallbackCluster(TextCluster):
    """A candidate missing intent: a group of fallback texts with its weekly trend.

    ``weekly_counts`` are its fallback messages per week of the period (week 1 starts at ``start``). The trend test
    compares its rate per answered user message in the second half of the period with the first half (an exact
    binomial test conditional on its total, one-sided: growing); ``p_adjusted`` is Holm-adjusted over the clusters
    and ``is_growing`` means ``p_adjusted < alpha``.
    """

    weekly_counts: tuple[int, ...]
    n_first_half: int
    n_second_half: int
    rate_first_half: float
    rate_second_half: float
    growth_ratio: float
    p_value: float
    p_adjusted: float
    is_growing: bool


@dataclass(frozen=True)
class FallbackClusters(TableResult):
    """The user messages the bot answered with a fallback in [start, end), grouped into candidate missing intents.

    Rates are per 1,000 user messages the bot answered. ``n_fallback_messages`` counts every fallback message of
    the period; the clusters hold the ``max_texts`` most frequent distinct texts, ``n_clustered_messages`` of them.
    """

    start: dt.datetime
    end: dt.datetime
    clusters: tuple[FallbackCluster, ...]
    clustering: TextClusters
    n_answered: int
    n_answered_first_half: int
    n_answered_second_half: int
    n_fallback_messages: int
    n_distinct_texts: int
    n_clustered_messages: int
    week_starts: tuple[dt.datetime, ...]
    weekly_answered: tuple[int, ...]
    weekly_fallbacks: tuple[int, ...]
    alpha: float
    note: str | None = None

    @property
    def title(self) -> str:
        return f"What the bot does not understand, {period_text(self.start, self.end)}"

    def cluster(self, cluster_id: int) -> FallbackCluster:
        return _find_cluster(self.clusters, cluster_id)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                **c.row(),
                "weekly_counts": list(c.weekly_counts),
                "rate_first_half": c.rate_first_half,
                "rate_second_half": c.rate_second_half,
                "growth_ratio": c.growth_ratio,
                "p_value": c.p_value,
                "p_adjusted": c.p_adjusted,
                "is_growing": c.is_growing,
            }
            for c in self.clusters
        ]

    def summary_lines(self) -> list[str]:
        if not self.n_fallback_messages:
            return [f"No user message got a fallback in {period_text(self.start, self.end)}."]
        lines = [
            f"The bot answered {self.n_fallback_messages:,} of {self.n_answered:,} user messages with a fallback "
            f"({format_percent(self.n_fallback_messages / self.n_answered)})."
        ]
        if self.clusters:
            covered = self.n_clustered_messages / self.n_fallback_messages
            top = self.clusters[0]
            lines.append(
                f"They fall into {len(self.clusters)} groups (the {sum(c.n_texts for c in self.clusters):,} most "
                f"frequent texts, {format_percent(covered)} of the messages); the largest, '{top.label}', holds "
                f'{format_percent(top.share)}, e.g. "{top.examples[0]}".'
            )
            growing = [c for c in self.clusters if c.is_growing]
            if growing:
                parts = [f"'{c.label}' ({_growth_text(c.growth_ratio)})" for c in growing]
                lines.append(
                    "Growing from the first half of the period to the second, per user message: "
                    + ", ".join(parts)
                    + "."
                )
            else:
                lines.append("No group grew beyond chance from the first half of the period to the second.")
        return lines

    def display_table(self) -> tuple[list[str], list[list[str]]]:
        headers = ["cluster", "label", "messages", "share", "examples", "per week", "trend"]
        cells = []
        for c in self.clusters:
            trend = _growth_text(c.growth_ratio) + (", growing" if c.is_growing else "")
            cells.append(
                [
                    str(c.cluster_id),
                    c.label,
                    format_number(c.n_messages),
                    format_percent(c.share),
                    " | ".join(c.examples),
                    " ".join(str(n) for n in c.weekly_counts),
                    trend,
                ]
            )
        return headers, cells

    def plot(self, top: int = 8) -> Any:
        """Weekly fallback messages of the largest ``top`` clusters (plotly)."""
        from insights._optional import require

        check_int("top", "FallbackClusters.plot", top, 1)
        go = require("plotly.graph_objects", "reports")
        figure = go.Figure()
        weeks = [w.date().isoformat() for w in self.week_starts]
        for c in self.clusters[:top]:
            figure.add_trace(go.Scatter(x=weeks, y=list(c.weekly_counts), mode="lines+markers", name=c.label))
        figure.update_layout(
            title=self.title,
            xaxis_title="week starting",
            yaxis_title="fallback messages",
            template="plotly_white",
        )
        return figure


def _growth_text(ratio: float) -> str:
    if math.isnan(ratio):
        return "n/a"
    return "new in the second half" if math.isinf(ratio) else f"x{ratio:.2f}"


def fallback_clusters(
    con: duckdb.DuckDBPyConnection,
    *,
    start: dt.date | dt.datetime | str,
    end: dt.date | dt.datetime | str,
    n_clusters: int | None = None,
    max_clusters: int = 30,
    max_texts: int = 2000,
    seed: int = 0,
    n_examples: int = 3,
    n_terms: int = 4,
    alpha: float = 0.05,
) -> FallbackClusters:
    """The user messages of the sessions started in [start, end) that the bot answered with a fallback, grouped.

    The engine returns the ``max_texts`` most frequent distinct texts with their counts per week (never every
    message); :func:`cluster_texts` groups them (``n_clusters``, ``max_clusters``, ``seed``, ``n_examples``,
    ``n_terms`` as there); each group gets its weekly counts and a growth test at level ``alpha``.

    Example::

        from insights.chatbot import fallback_clusters
        groups = fallback_clusters(con, start="2025-12-01", end="2026-03-02")
        print(groups)                 # largest group first, with examples and weekly counts
        groups.clusters[0].examples
    """
    function = "fallback_clusters"
    first, last = check_period(function, start, end)
    if n_clusters is not None:
        check_int("n_clusters", function, n_clusters, 1)
    check_int("max_clusters", function, max_clusters, 2)
    check_int("max_texts", function, max_texts, 2)
    check_int("seed", function, seed, 0)
    check_int("n_examples", function, n_examples, 1)
    check_int("n_terms", function, n_terms, 1)
    check_open_unit("alpha", function, alpha)
    check_connection(function, con)

    mid = first + (last - first) / 2
    n_weeks = math.ceil((last - first) / dt.timedelta(days=7))
    cursor = con.cursor()
    try:
        cursor.execute(q.FALLBACK_TURNS_SQL, {"start": first, "end": last, "mid": mid})
        exposure = cursor.execute(q.FALLBACK_EXPOSURE_SQL).fetchall()
        text_rows = cursor.execute(q.FALLBACK_TEXTS_SQL, {"max_texts": max_texts}).fetchall()
        distinct_row = first_row(cursor.execute(q.FALLBACK_DISTINCT_SQL))
    finally:
        cursor.close()

    weekly_answered = np.zeros(n_weeks, dtype=np.int64)
    weekly_fallbacks = np.zeros(n_weeks, dtype=np.int64)
    half_answered = np.zeros(2, dtype=np.int64)
    for week, second, n_answered, n_fallback, _ in exposure:
        weekly_answered[min(int(week), n_weeks - 1)] += int(n_answered)
        weekly_fallbacks[min(int(week), n_weeks - 1)] += int(n_fallback)
        half_answered[int(bool(second))] += int(n_answered)
    per_text: dict[str, npt.NDArray[np.int64]] = {}
    halves: dict[str, npt.NDArray[np.int64]] = {}
    for text, week, second, n in text_rows:
        per_text.setdefault(text, np.zeros(n_weeks, dtype=np.int64))[min(int(week), n_weeks - 1)] += int(n)
        halves.setdefault(text, np.zeros(2, dtype=np.int64))[int(bool(second))] += int(n)
    texts = sorted(per_text, key=lambda t: (-int(per_text[t].sum()), t))
    grouping = cluster_texts(
        texts,
        [int(per_text[t].sum()) for t in texts],
        n_clusters=n_clusters,
        max_clusters=max_clusters,
        seed=seed,
        n_examples=n_examples,
        n_terms=n_terms,
    )
    clusters = _trends(grouping, texts, per_text, halves, half_answered, n_weeks, alpha)
    return FallbackClusters(
        start=first,
        end=last,
        clusters=clusters,
        clustering=grouping,
        n_answered=int(weekly_answered.sum()),
        n_answered_first_half=int(half_answered[0]),
        n_answered_second_half=int(half_answered[1]),
        n_fallback_messages=int(weekly_fallbacks.sum()),
        n_distinct_texts=int(distinct_row[0]) if distinct_row else 0,
        n_clustered_messages=sum(c.n_messages for c in clusters),
        week_starts=tuple(first + dt.timedelta(days=7 * i) for i in range(n_weeks)),
        weekly_answered=tuple(int(x) for x in weekly_answered),
        weekly_fallbacks=tuple(int(x) for x in weekly_fallbacks),
        alpha=float(alpha),
        note=grouping.note if grouping.note else None if texts else "no_fallbacks",
    )


def _trends(
    grouping: TextClusters,
    texts: list[str],
    per_text: dict[str, npt.NDArray[np.int64]],
    halves: dict[str, npt.NDArray[np.int64]],
    half_answered: npt.NDArray[np.int64],
    n_weeks: int,
    alpha: float,
) -> tuple[FallbackCluster, ...]:
    from scipy import stats

    weekly = {c.cluster_id: np.zeros(n_weeks, dtype=np.int64) for c in grouping.clusters}
    split = {c.cluster_id: np.zeros(2, dtype=np.int64) for c in grouping.clusters}
    for text, label in zip(texts, grouping.labels, strict=True):
        if label >= 1:
            weekly[label] += per_text[text]
            split[label] += halves[text]
    e1, e2 = int(half_answered[0]), int(half_answered[1])
    p_values = []
    for c in grouping.clusters:
        n1, n2 = (int(x) for x in split[c.cluster_id])
        if n1 + n2 and e1 and e2:
            test = stats.binomtest(n2, n1 + n2, e2 / (e1 + e2), alternative="greater")
            p_values.append(float(test.pvalue))
        else:
            p_values.append(math.nan)
    adjusted = _holm(p_values)
    out = []
    for c, p, p_adj in zip(grouping.clusters, p_values, adjusted, strict=True):
        n1, n2 = (int(x) for x in split[c.cluster_id])
        r1 = 1000 * n1 / e1 if e1 else math.nan
        r2 = 1000 * n2 / e2 if e2 else math.nan
        ratio = r2 / r1 if r1 else math.inf if r2 else math.nan
        out.append(
            FallbackCluster(
                **{f.name: getattr(c, f.name) for f in fields(TextCluster)},
                weekly_counts=tuple(int(x) for x in weekly[c.cluster_id]),
                n_first_half=n1,
                n_second_half=n2,
                rate_first_half=r1,
                rate_second_half=r2,
                growth_ratio=ratio,
                p_value=p,
                p_adjusted=p_adj,
                is_growing=bool(math.isfinite(p_adj) and p_adj < alpha and n2 / e2 > n1 / e1),
            )
        )
    return tuple(out)


def _holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment over the finite p-values (NaN stays NaN)."""
    finite = [i for i, p in enumerate(p_values) if math.isfinite(p)]
    m = len(finite)
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, i in enumerate(sorted(finite, key=lambda j: p_values[j])):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
