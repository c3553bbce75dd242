"""Training and prediction with scikit-learn. WORKER ONLY: web processes never import this module.

numpy, scipy, scikit-learn and joblib add about 100 MB to a process, so only the job worker (and
the ``kefu triage train`` command) load them, by importing this module inside a job function.
``kefu/triage/tests/test_imports.py`` checks that the web application never does.

Features: ``kefu.triage.text.analyze`` n-grams, hashed into ``N_FEATURES`` columns by a
``HashingVectorizer`` (no vocabulary, so memory does not grow with the corpus), weighted by a
``TfidfTransformer`` (sublinear tf, smoothed idf, l2 norm) whose idf comes from a streamed
document-frequency count.

Model: per field, a linear ``SGDClassifier`` with the logistic loss trained by ``partial_fit``
over chunks of tickets streamed from the database, so 100k tickets train in bounded memory. Its
probabilities are calibrated on a held-out slice by temperature scaling — one parameter, fitted
by minimising the log-loss of ``softmax(scores / T)``. We chose it over ``CalibratedClassifierCV``:
sigmoid calibration fits two parameters per class (unstable with the few dozen held-out tickets
per class a small help desk has), isotonic needs thousands, and neither works on a model trained
by ``partial_fit`` without keeping the data in memory. Temperature scaling never changes which
value is predicted, only how confident the model says it is.

Split: tickets are streamed in id order; within each group, ticket number i goes to the test
slice when ``i mod 10k`` is 2 or 7 and to the calibration slice when it is 4 (k grows with the
corpus so that each slice stays below its cap) — a split stratified by group. The rest trains.

The stored model holds plain arrays (idf, sparse coefficients, intercepts, temperature), not
pickled estimators, so a scikit-learn upgrade cannot make old model files unreadable.
"""

from __future__ import annotations

import logging
import math
import random
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Left
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import SGDClassifier

from kefu.tickets.models import DONE_STATES, Message, Ticket
from kefu.triage.labels import LABEL_COLUMNS
from kefu.triage.models import FIELDS
from kefu.triage.text import MAX_CHARS, analyze, readable_top, ticket_text

logger = logging.getLogger(__name__)

FORMAT = 1
N_FEATURES = 2**18
CHUNK_SIZE = 2000
# Hashed training rows kept in memory between epochs (non-zero entries, ~8 bytes each); the rest
# is streamed from the database again in each epoch.
CACHE_NNZ = 8_000_000
TEST_CAP = 5000
CALIBRATION_CAP = 2500
NAMING_SAMPLE = 3000
TOP_FEATURES_PER_CLASS = 8
EXPLANATION_FEATURES = 3
OVERRIDE_WEIGHT = 2.0
COVERAGE_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def _as_is(document: str) -> list[str]:
    return [document]


def make_hasher() -> HashingVectorizer:
    return HashingVectorizer(
        analyzer=analyze,
        n_features=N_FEATURES,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


def _gram_indices(grams: list[str]) -> np.ndarray:
    """The hashed column of each n-gram (same hashing as ``make_hasher``)."""
    if not grams:
        return np.zeros(0, dtype=np.int64)
    single = HashingVectorizer(
        analyzer=_as_is, n_features=N_FEATURES, alternate_sign=False, norm=None
    )
    matrix = single.transform(grams).tocsr()
    return np.asarray(matrix.indices, dtype=np.int64)


def make_tfidf(idf: np.ndarray) -> TfidfTransformer:
    """A ``TfidfTransformer`` with an idf computed elsewhere (streamed, not from one matrix)."""
    tfidf = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True)
    tfidf.idf_ = idf.astype(np.float32)
    tfidf.n_features_in_ = N_FEATURES
    return tfidf


# --- training -------------------------------------------------------------------------------


@dataclass
class Slice:
    """Held-out rows kept in memory: their hashed counts and labels per field."""

    matrices: list[Any] = field(default_factory=list)
    labels: dict[str, list[str | None]] = field(
        default_factory=lambda: {name: [] for name in FIELDS}
    )

    def matrix(self):
        if not self.matrices:
            return sp.csr_matrix((0, N_FEATURES), dtype=np.float32)
        return sp.vstack(self.matrices).tocsr()

    def __len__(self) -> int:
        return len(self.labels[FIELDS[0]])


@dataclass
class Chunk:
    """Training rows: hashed counts, labels and sample weights per field."""

    matrix: Any
    labels: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]


@dataclass
class TrainingResult:
    model: dict[str, Any]
    metrics: dict[str, Any]
    ticket_count: int
    seconds: float


Row = tuple[int, str, str, int, int | None, str, str]


def _rows(after_pk: int, upto_pk: int) -> Iterator[Row]:
    first_body = Subquery(
        Message.objects.filter(ticket=OuterRef("pk"))
        .order_by("created_at", "id")
        .annotate(start=Left("body_text", MAX_CHARS))
        .values("start")[:1]
    )
    rows = (
        Ticket.objects.filter(state__in=DONE_STATES, pk__gt=after_pk, pk__lte=upto_pk)
        .order_by("pk")
        .annotate(first_body=first_body)
        .values_list("pk", "subject", "first_body", *LABEL_COLUMNS.values())
    )
    return rows.iterator(chunk_size=CHUNK_SIZE)


def _chunked(rows: Iterator[Row]) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def _labels_of(row: Row) -> dict[str, str | None]:
    values = row[3:]
    return {
        name: (None if value is None or value == "" else str(value))
        for name, value in zip(FIELDS, values, strict=True)
    }


def _train_chunk(
    rows: list[Row], hasher: HashingVectorizer, overridden: set[tuple[int, str]]
) -> Chunk:
    matrix = hasher.transform([ticket_text(row[1], row[2] or "") for row in rows]).tocsr()
    labels = {name: np.empty(len(rows), dtype=object) for name in FIELDS}
    weights = {name: np.ones(len(rows), dtype=np.float64) for name in FIELDS}
    for i, row in enumerate(rows):
        for name, label in _labels_of(row).items():
            labels[name][i] = label
            if (row[0], name) in overridden:
                # An agent corrected the model here: learn the correction with more weight.
                weights[name][i] = OVERRIDE_WEIGHT
    return Chunk(matrix=matrix, labels=labels, weights=weights)


@dataclass
class FirstPass:
    """What one read of the history gathers: class counts, document frequencies, the held-out
    slices, a naming sample, and the training chunks that fit the memory budget."""

    class_counts: dict[str, Counter[str]]
    document_frequency: np.ndarray
    test: Slice
    calibration: Slice
    held_out: set[int]
    cache: list[Chunk]
    cached_upto: int
    fits_in_memory: bool
    train_count: int
    sample: list[str]


def train(
    *,
    min_examples_per_class: int,
    overridden: set[tuple[int, str]] | None = None,
    progress: Callable[[str], None] | None = None,
    seed: int = 0,
) -> TrainingResult:
    """Train on the resolved and closed tickets; returns the model and its metrics.

    Streams the tickets twice at most per epoch (see the module docstring); memory is bounded by
    ``CHUNK_SIZE``, ``CACHE_NNZ`` and the caps of the held-out slices. The passes: read the
    history (``_read_history``), choose the learnable fields (``_plan_fields``), fit them in
    memory or over streamed epochs, then calibrate and evaluate each (``_finish_fields``).
    """
    started = time.monotonic()
    say = progress or (lambda message: None)
    overridden = overridden or set()
    hasher = make_hasher()
    upto_pk = (
        Ticket.objects.filter(state__in=DONE_STATES).order_by("-pk").values_list("pk", flat=True)
    ).first() or 0
    total = Ticket.objects.filter(state__in=DONE_STATES, pk__lte=upto_pk).count()
    stride = max(1, math.ceil(total * 0.2 / TEST_CAP), math.ceil(total * 0.1 / CALIBRATION_CAP))
    say(f"{total} resolved or closed tickets")

    history = _read_history(upto_pk, 10 * stride, hasher, overridden, seed)
    train_count = history.train_count
    say(
        f"read {train_count} training, {len(history.test)} test, "
        f"{len(history.calibration)} calibration tickets"
    )
    idf = np.log((1.0 + train_count) / (1.0 + history.document_frequency)) + 1.0
    tfidf = make_tfidf(idf)

    plans = _plan_fields(history.class_counts, min_examples_per_class)
    trained = [name for name in FIELDS if plans[name]["trained"]]
    models = {
        name: SGDClassifier(
            loss="log_loss",
            alpha=min(1e-4, max(1e-6, 1.0 / max(train_count, 1))),
            random_state=seed,
        )
        for name in trained
    }
    if trained and history.fits_in_memory:
        _fit_in_memory(history.cache, tfidf, plans, trained, models)
        say("trained in memory")
    elif trained:

        def training_chunks() -> Iterator[Chunk]:
            yield from history.cache
            for rows in _chunked(_rows(history.cached_upto, upto_pk)):
                kept = [row for row in rows if row[0] not in history.held_out]
                if kept:
                    yield _train_chunk(kept, hasher, overridden)

        _fit_streamed(training_chunks, tfidf, plans, trained, models, train_count, seed, say)

    fields_model, metrics, top_indices = _finish_fields(
        plans, models, history, tfidf, idf, min_examples_per_class
    )
    _name_top_features(top_indices, history.sample, metrics, fields_model)
    seconds = time.monotonic() - started
    model = {"format": FORMAT, "n_features": N_FEATURES, "idf": idf.astype(np.float32)}
    model["fields"] = fields_model
    return TrainingResult(model=model, metrics=metrics, ticket_count=total, seconds=seconds)


def _read_history(
    upto_pk: int,
    cycle: int,
    hasher: HashingVectorizer,
    overridden: set[tuple[int, str]],
    seed: int,
) -> FirstPass:
    """Pass 1: class counts, document frequencies, the held-out slices (by position within each
    group, see the module docstring), a reservoir sample for naming features, and the training
    chunks kept in memory while they fit ``CACHE_NNZ``."""
    per_group: Counter[str | None] = Counter()
    history = FirstPass(
        class_counts={name: Counter() for name in FIELDS},
        document_frequency=np.zeros(N_FEATURES, dtype=np.int64),
        test=Slice(),
        calibration=Slice(),
        held_out=set(),
        cache=[],
        cached_upto=0,
        fits_in_memory=True,
        train_count=0,
        sample=[],
    )
    test, calibration, sample = history.test, history.calibration, history.sample
    cached_nnz = 0
    rng = random.Random(seed)  # noqa: S311 - sampling, not security
    seen = 0
    for rows in _chunked(_rows(0, upto_pk)):
        train_rows: list[Row] = []
        test_rows: list[Row] = []
        calibration_rows: list[Row] = []
        for row in rows:
            row_labels = _labels_of(row)
            for name, label in row_labels.items():
                if label is not None:
                    history.class_counts[name][label] += 1
            position = per_group[row_labels["group"]] % cycle
            per_group[row_labels["group"]] += 1
            target = test if position in (2, 7) else calibration if position == 4 else None
            if target is not None:
                history.held_out.add(row[0])
                (test_rows if target is test else calibration_rows).append(row)
                for name, label in row_labels.items():
                    target.labels[name].append(label)
                continue
            train_rows.append(row)
            seen += 1
            text = ticket_text(row[1], row[2] or "")
            if len(sample) < NAMING_SAMPLE:
                sample.append(text)
            else:
                slot = rng.randrange(seen)
                if slot < NAMING_SAMPLE:
                    sample[slot] = text
        for target, held in ((test, test_rows), (calibration, calibration_rows)):
            if held:
                texts = [ticket_text(row[1], row[2] or "") for row in held]
                target.matrices.append(hasher.transform(texts).tocsr())
        if not train_rows:
            continue
        chunk = _train_chunk(train_rows, hasher, overridden)
        history.train_count += len(train_rows)
        history.document_frequency += np.bincount(chunk.matrix.indices, minlength=N_FEATURES)
        if history.fits_in_memory and cached_nnz + chunk.matrix.nnz <= CACHE_NNZ:
            history.cache.append(chunk)
            cached_nnz += chunk.matrix.nnz
            history.cached_upto = rows[-1][0]
        else:
            history.fits_in_memory = False
    return history


def _plan_fields(
    class_counts: dict[str, Counter[str]], min_examples_per_class: int
) -> dict[str, dict[str, Any]]:
    """Which fields can be learned: two or more values with enough examples each."""
    plans: dict[str, dict[str, Any]] = {}
    for name in FIELDS:
        counts = class_counts[name]
        eligible = sorted(label for label, n in counts.items() if n >= min_examples_per_class)
        plan: dict[str, Any] = {
            "class_counts": dict(counts.most_common()),
            "eligible": eligible,
            "trained": len(eligible) >= 2,
        }
        if not counts:
            plan["reason"] = "no_history"
        elif len(eligible) < 2:
            plan["reason"] = "too_few_classes"
        plans[name] = plan
    return plans


def _fit_in_memory(
    cache: list[Chunk],
    tfidf: TfidfTransformer,
    plans: dict[str, dict[str, Any]],
    trained: list[str],
    models: dict[str, SGDClassifier],
) -> None:
    """Everything fits the memory budget: one ``fit`` per field (the epochs run in compiled
    code, with early stopping) instead of a Python loop of ``partial_fit`` calls. A field whose
    examples of all but one value were held out (a tiny history) leaves ``trained``."""
    stacked = sp.vstack([chunk.matrix for chunk in cache]).tocsr()
    all_labels_of = {name: np.concatenate([c.labels[name] for c in cache]) for name in FIELDS}
    weights_of = {name: np.concatenate([c.weights[name] for c in cache]) for name in FIELDS}
    cache.clear()  # the stacked copy replaces the chunks
    matrix = tfidf.transform(stacked, copy=False)
    del stacked
    for name in list(trained):
        all_labels = all_labels_of[name]
        weights = weights_of[name]
        mask = np.isin(all_labels, plans[name]["eligible"])
        if len(set(all_labels[mask])) < 2:
            plans[name].update(trained=False, reason="too_few_classes")
            trained.remove(name)
            continue
        models[name].set_params(max_iter=50, tol=1e-4)
        with warnings.catch_warnings():
            # Not converging within 50 epochs on a tiny history is expected and harmless.
            warnings.simplefilter("ignore", ConvergenceWarning)
            models[name].fit(
                matrix[mask], all_labels[mask].astype(str), sample_weight=weights[mask]
            )


def _fit_streamed(
    training_chunks: Callable[[], Iterator[Chunk]],
    tfidf: TfidfTransformer,
    plans: dict[str, dict[str, Any]],
    trained: list[str],
    models: dict[str, SGDClassifier],
    train_count: int,
    seed: int,
    say: Callable[[str], None],
) -> None:
    """Too much for memory: epochs of ``partial_fit`` over the cached chunks and the rest
    streamed from the database again, each chunk shuffled."""
    epochs = min(20, max(3, math.ceil(300_000 / max(train_count, 1))))
    shuffle = np.random.default_rng(seed)
    for epoch in range(epochs):
        for chunk in training_chunks():
            order = shuffle.permutation(chunk.matrix.shape[0])
            features = tfidf.transform(chunk.matrix[order])
            for name in trained:
                chunk_labels = chunk.labels[name][order]
                eligible = plans[name]["eligible"]
                mask = np.isin(chunk_labels, eligible)
                if not mask.any():
                    continue
                models[name].partial_fit(
                    features[mask],
                    chunk_labels[mask].astype(str),
                    classes=np.array(eligible),
                    sample_weight=chunk.weights[name][order][mask],
                )
        say(f"epoch {epoch + 1}/{epochs} done")


def _finish_fields(
    plans: dict[str, dict[str, Any]],
    models: dict[str, SGDClassifier],
    history: FirstPass,
    tfidf: TfidfTransformer,
    idf: np.ndarray,
    min_examples_per_class: int,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    """Per field: its metrics; for a trained one the stored arrays, the temperature fitted on
    the calibration slice, the accuracy on the test slice and its strongest columns."""
    test, calibration = history.test, history.calibration
    test_features = _weighted(tfidf, test.matrix())
    calibration_features = _weighted(tfidf, calibration.matrix())
    fields_model: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    top_indices: dict[str, dict[str, np.ndarray]] = {}
    for name in FIELDS:
        plan = plans[name]
        info: dict[str, Any] = {
            "trained": plan["trained"],
            "reason": plan.get("reason", ""),
            "class_counts": plan["class_counts"],
            "labels": plan["eligible"],
            "min_examples_per_class": min_examples_per_class,
        }
        metrics[name] = info
        if not plan["trained"]:
            continue
        estimator = models[name]
        classes = [str(label) for label in estimator.classes_]
        coef = np.asarray(estimator.coef_, dtype=np.float32)
        intercept = np.asarray(estimator.intercept_, dtype=np.float32)
        if len(classes) == 2:
            # Binary: one weight vector for the second value; split it so that the softmax of
            # (−s/2, s/2) is the logistic probability and both values have explanations.
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
        sparse_coef = sp.csr_matrix(coef)
        calibration_mask = np.isin(np.array(calibration.labels[name], dtype=object), classes)
        temperature = _fit_temperature(
            _scores(calibration_features[calibration_mask], sparse_coef, intercept),
            np.array(calibration.labels[name], dtype=object)[calibration_mask],
            classes,
        )
        fields_model[name] = {
            "labels": classes,
            "coef": sparse_coef,
            "intercept": intercept,
            "temperature": temperature,
        }
        test_labels = np.array(test.labels[name], dtype=object)
        test_mask = np.isin(test_labels, classes)
        probabilities = _softmax(
            _scores(test_features[test_mask], sparse_coef, intercept) / temperature
        )
        info.update(
            _evaluate(probabilities, test_labels[test_mask], classes),
            temperature=round(float(temperature), 4),
            train_size=int(sum(plan["class_counts"][label] for label in classes)),
        )
        weights = coef * idf.astype(np.float32)[np.newaxis, :]
        top_indices[name] = {
            label: _top_columns(weights[i], TOP_FEATURES_PER_CLASS * 4)
            for i, label in enumerate(classes)
        }
    return fields_model, metrics, top_indices


def _weighted(tfidf: TfidfTransformer, counts):
    """tf-idf of ``counts``; an empty slice (a tiny history) stays empty."""
    return tfidf.transform(counts) if counts.shape[0] else counts


def _top_columns(weights: np.ndarray, count: int) -> np.ndarray:
    count = min(count, len(weights))
    candidates = np.argpartition(-weights, count - 1)[:count]
    ranked = candidates[np.argsort(-weights[candidates])]
    return ranked[weights[ranked] > 0]


def _scores(features, coef, intercept: np.ndarray) -> np.ndarray:
    return np.asarray((features @ coef.T).toarray(), dtype=np.float64) + intercept


def _softmax(scores: np.ndarray) -> np.ndarray:
    if scores.size == 0:
        return scores
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _fit_temperature(scores: np.ndarray, truth: np.ndarray, labels: list[str]) -> float:
    """The temperature minimising the held-out log-loss (1.0 when there is too little data).

    The targets are smoothed by 1/(n+2) (Laplace): after n held-out tickets without a mistake
    the model may say "0.97", not "1.00" — a small help desk's model stays modest.
    """
    if len(truth) < 10:
        return 1.0
    index = {label: i for i, label in enumerate(labels)}
    epsilon = 1.0 / (len(truth) + 2)
    targets = np.full((len(truth), len(labels)), epsilon / len(labels))
    targets[np.arange(len(truth)), [index[label] for label in truth]] += 1.0 - epsilon
    best, best_loss = 1.0, math.inf
    for temperature in np.geomspace(0.01, 20.0, 120):
        probabilities = _softmax(scores / temperature)
        loss = -(targets * np.log(np.clip(probabilities, 1e-12, 1.0))).sum(axis=1).mean()
        if loss < best_loss - 1e-9:
            best, best_loss = float(temperature), float(loss)
    return best


def _evaluate(probabilities: np.ndarray, truth: np.ndarray, labels: list[str]) -> dict[str, Any]:
    size = len(truth)
    if size == 0:
        return {"test_size": 0, "accuracy": None, "baseline_accuracy": None, "confusion": []}
    index = {label: i for i, label in enumerate(labels)}
    predicted = probabilities.argmax(axis=1)
    actual = np.array([index[label] for label in truth])
    correct = predicted == actual
    confidence = probabilities.max(axis=1)
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    for a, p in zip(actual, predicted, strict=True):
        confusion[a, p] += 1
    coverage = []
    for threshold in COVERAGE_THRESHOLDS:
        covered = confidence >= threshold
        coverage.append(
            {
                "threshold": threshold,
                "coverage": round(float(covered.mean()), 4),
                "accuracy": round(float(correct[covered].mean()), 4) if covered.any() else None,
            }
        )
    return {
        "test_size": size,
        "accuracy": round(float(correct.mean()), 4),
        "baseline_accuracy": round(float(np.bincount(actual).max() / size), 4),
        "confusion": confusion.tolist(),
        "coverage": coverage,
    }


def _name_top_features(
    top_indices: dict[str, dict[str, np.ndarray]],
    sample: list[str],
    metrics: dict[str, Any],
    fields_model: dict[str, Any],
) -> None:
    """Give the strongest hashed columns back their n-grams, from a sample of training texts.

    The hashing trick keeps no names; this bounded reverse map (at most a few hundred columns,
    found in at most ``NAMING_SAMPLE`` texts) is what the triage page shows as "what the model
    learned". Explanations of single predictions re-hash the ticket's own n-grams instead.
    """
    wanted = {
        int(i) for per_label in top_indices.values() for idx in per_label.values() for i in idx
    }
    if not wanted:
        return
    frequency: Counter[str] = Counter()
    for text in sample:
        frequency.update(set(analyze(text)))
    grams = list(frequency)
    names: dict[int, str] = {}
    for gram, column in zip(grams, _gram_indices(grams), strict=True):
        column = int(column)
        if column in wanted and frequency[gram] > frequency.get(names.get(column, ""), 0):
            names[column] = gram
    for name, per_label in top_indices.items():
        top: dict[str, list[str]] = {}
        for label, indices in per_label.items():
            ranked = [names[int(i)] for i in indices if int(i) in names]
            top[label] = readable_top(ranked, TOP_FEATURES_PER_CLASS)
        metrics[name]["top_features"] = top
        fields_model[name]["names"] = {
            int(i): names[int(i)]
            for i in np.concatenate(list(per_label.values()))
            if int(i) in names
        }


# --- storing and loading --------------------------------------------------------------------


def save_model(model: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    joblib.dump(model, temporary, compress=3)
    temporary.replace(path)  # atomic: a worker never reads a half-written model


_loaded: dict[str, dict[str, Any]] = {}


def load_model(path: str) -> dict[str, Any]:
    """The model stored at ``path``, cached in this process (only the latest one)."""
    model = _loaded.get(path)
    if model is None:
        model = joblib.load(path)
        if model.get("format") != FORMAT:
            raise ValueError(f"{path} is not a triage model of format {FORMAT}")
        _loaded.clear()
        _loaded[path] = model
    return model


# --- predicting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    features: list[str]


def predict(model: dict[str, Any], subject: str, body: str) -> dict[str, Prediction]:
    """The most likely value of each trained field, its calibrated confidence and the n-grams
    of this ticket that pushed hardest towards it (largest coefficient × tf-idf value)."""
    text = ticket_text(subject, body)
    counts = make_hasher().transform([text]).tocsr()
    features = make_tfidf(model["idf"]).transform(counts).tocsr()
    grams = sorted(set(analyze(text)))
    names: dict[int, list[str]] = {}
    for gram, column in zip(grams, _gram_indices(grams), strict=True):
        names.setdefault(int(column), []).append(gram)
    predictions = {}
    for name, spec in model["fields"].items():
        coef = spec["coef"]
        scores = _scores(features, coef, spec["intercept"])
        probabilities = _softmax(scores / spec["temperature"])[0]
        best = int(probabilities.argmax())
        weights = coef[best].toarray()[0, features.indices]
        contributions = features.data * weights
        ranked = [
            # Two n-grams of one ticket may share a column; the longer one reads better.
            max(names[int(column)], key=len)
            for column, contribution in sorted(
                zip(features.indices, contributions, strict=True), key=lambda item: -item[1]
            )
            if contribution > 0 and int(column) in names
        ]
        predictions[name] = Prediction(
            label=spec["labels"][best],
            confidence=float(probabilities[best]),
            features=readable_top(ranked, EXPLANATION_FEATURES),
        )
    return predictions
