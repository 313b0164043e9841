"""LightGBM trained on a Dask cluster (``lightgbm.dask``): the dask engine of a training.

Pure module (no Django). ``train_dask`` takes a ``distributed.Client`` and the Parquet copy of
a dataset version (a path every Dask worker reaches, or an ``s3://`` URL with fsspec options)
and returns the same ``TrainingResult`` as ``fit.train``: the artifact, its scoring meta and
metrics read the same way, so the version registers, scores and traces like any other.

What crosses to the client: the label (and the time column of a time split), to draw the
same (train, valid) split as the local engine row for row, and the validation scores; the
feature columns are read, encoded and held by the Dask workers only, partition by partition.
Each worker encodes its partitions with the local engine's own functions (``data``), so a
category's code and a number's dtype are those of a local training.

Rounds reach the client through a Dask ``Queue``; a cancel is an ``Event`` the workers check
every round. What runs on the workers travels by value (``apps.core.shipping``), so a Dask
worker needs the pinned libraries, not OMM's code.
"""

from __future__ import annotations

import operator
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from .data import _build_matrix, _is_categorical_type, _levels, _matrix_dtype, _split_order
from .fit import _LGB_METRICS, _thin, labelled_rows, library_versions
from .scoring import _validation_metrics
from .spec import (
    Cancelled,
    Problem,
    RoundInfo,
    SpecError,
    TrainingResult,
    TrainingSpec,
    _,
    resolved_params,
    validate_spec,
)

# Seconds between checks that the workers holding the rows are still in the cluster.
WATCH_SECONDS = 2.0
# Partitions per worker at least: the rows spread evenly whatever the file's row groups.
PARTITIONS_PER_WORKER = 4
LABEL, SPLIT = "__omm_label", "__omm_valid"


class DistributedFailed(RuntimeError):
    """The cluster could not finish the training (a worker died, the network broke...)."""


def worker_addresses(client: Any) -> list[str]:
    """The cluster's worker addresses, asked of the scheduler now.

    Not ``client.scheduler_info()``: that returns the client's cached identity, which the
    client's own periodic refresh (``distributed.client.scheduler-info-interval``, 2 s)
    overwrites with one that lists no worker; read at the wrong moment it says every worker
    has left.
    """
    return sorted(client.sync(client.scheduler.identity, n_workers=-1)["workers"])


def dask_problems(spec: TrainingSpec) -> list[str]:
    """Why ``spec`` cannot train on the dask engine (empty when it can)."""
    problems: list[str] = []
    if spec.algorithm != "lightgbm":
        problems.append(
            Problem(
                _("the dask engine trains LightGBM; train %(algorithm)s on the local engine"),
                algorithm=spec.algorithm,
            )
        )
    if (resolved_params(spec).get("early_stopping_rounds") or 0) > 0:
        problems.append(
            Problem(
                _("early stopping is not available on the dask engine (each worker sees part of the rows)")
            )
        )
    return problems


def _shipped(obj: Any) -> Any:
    """``obj`` pickled with this package's code, for Dask workers without OMM's code."""
    from apps.core import shipping

    from .. import training

    return shipping.by_value(obj, training)


class _RoundReporter:
    """The LightGBM callback run on every Dask worker: each round goes to the client's queue,
    and a set cancel event stops the training."""

    order = 25  # after LightGBM's own evaluation logging, as the local engine's recorder

    def __init__(self, queue_name: str, cancel_name: str, total: int):
        self.queue_name, self.cancel_name, self.total = queue_name, cancel_name, total
        self._queue = self._event = None

    def __getstate__(self) -> dict:
        return {"queue_name": self.queue_name, "cancel_name": self.cancel_name, "total": self.total}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _queue=None, _event=None)

    def __call__(self, env: Any) -> None:
        from distributed import Event, Queue

        if self._queue is None:
            self._queue, self._event = Queue(self.queue_name), Event(self.cancel_name)
        results = [(item[0], item[1], float(item[2])) for item in env.evaluation_result_list]
        self._queue.put({"round": env.iteration + 1, "results": results})
        if self._event.is_set():
            raise Cancelled(f"training cancelled at round {env.iteration + 1} of {self.total}")


def _round_info(message: dict, total: int) -> RoundInfo:
    metrics: dict[str, float] = {}
    loss_name = message["results"][0][1] if message["results"] else None
    valid_loss = None
    for _data, metric, value in message["results"]:
        metrics[f"valid_{metric}"] = value
        if metric == loss_name:
            valid_loss = value
    return RoundInfo(message["round"], total, None, valid_loss, metrics)


def _open(source: str, options: dict):
    import fsspec

    return fsspec.open(source, "rb", **options)


def _pieces(source: str, options: dict, parts: int) -> list[tuple[int, int, int]]:
    """The file cut into about ``parts`` pieces: (row group, start, stop) within a row group,
    read from the footer only."""
    import pyarrow.parquet as pq

    with _open(source, options) as f:
        meta = pq.ParquetFile(f).metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    step = max(1, -(-sum(sizes) // max(parts, 1)))
    return [(g, start, min(start + step, n)) for g, n in enumerate(sizes) for start in range(0, n, step)]


def _read_piece(source: str, options: dict, piece: tuple[int, int, int], columns: list[str]) -> pa.Table:
    import pyarrow.parquet as pq

    group, start, stop = piece
    with _open(source, options) as f:
        table = pq.ParquetFile(f).read_row_group(group, columns=columns)
    return table.slice(start, stop - start)


def _prepare(
    source: str,
    options: dict,
    piece: tuple[int, int, int],
    valid: np.ndarray,
    keep: np.ndarray,
    features: list[str],
    levels: dict[str, list[str]],
    dtype: str,
    y: np.ndarray,
) -> tuple[Any, Any]:
    """One piece as (train, valid) frames of encoded features plus the label (on a worker)."""
    import pandas as pd

    table = _read_piece(source, options, piece, features)
    out = pd.DataFrame(_build_matrix(table, features, levels, np.dtype(dtype)), columns=features)
    del table
    out[LABEL] = y
    return out[keep & ~valid].reset_index(drop=True), out[keep & valid].reset_index(drop=True)


def _distinct(source: str, options: dict, piece: tuple[int, int, int], column: str) -> set[str]:
    """The distinct non-missing values of one piece's column, as text (on a worker)."""
    table = _read_piece(source, options, piece, [column])
    return set(_levels(table.column(column)))


def _valid_scores(frame: Any, model_text: str, features: list[str]) -> tuple:
    """(labels, scores) of one partition's validation rows (on a worker)."""
    import lightgbm as lgb

    if len(frame) == 0:
        return np.empty(0), np.empty(0)
    booster = lgb.Booster(model_str=model_text)
    return frame[LABEL].to_numpy(), booster.predict(frame[features].to_numpy())


def _lgb_estimator(spec: TrainingSpec, params: dict, n_classes: int, client: Any, timeout_minutes: int):
    import lightgbm.dask as lgbd

    kwargs: dict[str, Any] = {
        "client": client,
        "n_estimators": params["num_boost_round"],
        "learning_rate": params["learning_rate"],
        "num_leaves": params["num_leaves"],
        "max_depth": params["max_depth"],
        "min_child_samples": params["min_data_in_leaf"],
        "colsample_bytree": params["feature_fraction"],
        "subsample": params["bagging_fraction"],
        "subsample_freq": params["bagging_freq"] or (1 if params["bagging_fraction"] < 1 else 0),
        "reg_alpha": params["lambda_l1"],
        "reg_lambda": params["lambda_l2"],
        "random_state": spec.seed,
        "deterministic": True,
        "force_col_wise": True,
        "verbosity": -1,
        "tree_learner": "data",
        "time_out": timeout_minutes,
        "metric": _LGB_METRICS[spec.objective],
    }
    for key in ("min_gain_to_split", "scale_pos_weight"):
        if key in params:
            kwargs[key] = params[key]
    if spec.objective == "regression":
        return lgbd.DaskLGBMRegressor(objective="regression", **kwargs)
    objective = "binary" if spec.objective == "binary" else "multiclass"
    return lgbd.DaskLGBMClassifier(objective=objective, **kwargs)


def _fit_watched(
    estimator, fit_kwargs: dict, client, names: tuple[str, str], total: int, on_round, holders, patience
):
    """Fit in a thread; feed the rounds the workers report to ``on_round`` meanwhile.

    A worker of ``holders`` (those holding the rows) leaving the cluster fails the training at
    once: LightGBM's survivors may wait on it, or their process may abort, and the training's
    futures stay pinned to the dead worker. No round for ``patience`` seconds fails it too;
    after a cancel the workers get as long to stop.
    """
    from distributed import Event, Queue

    queue, cancel = Queue(names[0], client=client), Event(names[1], client=client)
    outcome: dict[str, Any] = {}

    def fit() -> None:
        try:
            with client.as_current():  # dask's helpers look the client up in this thread
                estimator.fit(**fit_kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=fit, name="omm-dask-fit", daemon=True)
    thread.start()
    seen: dict[int, RoundInfo] = {}
    cancelled = False

    def drain() -> None:
        nonlocal cancelled
        while True:
            try:
                messages = queue.get(batch=True)
            except Exception:  # noqa: BLE001 - a closing queue ends the drain
                return
            if not messages:
                return
            for message in messages:
                if message["round"] in seen:
                    continue
                info = _round_info(message, total)
                seen[info.round] = info
                if on_round is not None and not cancelled and on_round(info) is False:
                    cancelled = True
                    cancel.set()

    last_round, last_check, rounds_seen = time.monotonic(), 0.0, 0
    while thread.is_alive():
        drain()
        thread.join(0.3)
        now = time.monotonic()
        if len(seen) != rounds_seen:
            last_round, rounds_seen = now, len(seen)
        if now - last_check >= WATCH_SECONDS:
            last_check = now
            present = set(worker_addresses(client))
            gone = sorted(set(holders) - present)
            if gone:
                cancel.set()
                raise DistributedFailed(f"the Dask worker(s) {', '.join(gone)} left the cluster mid-training")
        if now - last_round > patience:
            cancel.set()
            if cancelled:
                break
            raise DistributedFailed(f"no boosting round was reported for {patience:.0f} s")
    drain()
    if cancelled:
        raise Cancelled("training cancelled on the dask engine")
    error = outcome.get("error")
    if error is not None:
        if type(error).__name__ == "Cancelled":  # shipped by value: a copy of the class
            raise Cancelled(str(error))
        raise DistributedFailed(f"{type(error).__name__}: {error}") from error
    return [seen[k] for k in sorted(seen)]


def train_dask(
    spec: TrainingSpec,
    client: Any,
    source: str,
    *,
    storage_options: dict | None = None,
    on_round: Callable[[RoundInfo], bool] | None = None,
    timeout_minutes: int = 2,
) -> TrainingResult:
    """Train ``spec`` (LightGBM) on the Parquet file at ``source`` with the cluster of ``client``.

    Raises SpecError for a spec or data that cannot be trained, Cancelled when ``on_round``
    returns False, DistributedFailed when the cluster fails (a worker lost mid-training).
    ``result.engine`` records the workers and the training rows each one held.
    """
    with client.as_current():  # dask's helpers (wait, from_delayed) look the client up
        return _train_dask(spec, client, source, storage_options, on_round, timeout_minutes)


def _train_dask(
    spec: TrainingSpec,
    client: Any,
    source: str,
    storage_options: dict | None,
    on_round: Callable[[RoundInfo], bool] | None,
    timeout_minutes: int,
) -> TrainingResult:
    import dask.dataframe as dd
    import pyarrow.parquet as pq

    problems = dask_problems(spec)
    if problems:
        raise SpecError(problems)
    prepare, distinct, valid_scores = _shipped(_prepare), _shipped(_distinct), _shipped(_valid_scores)
    options = storage_options or {}
    with _open(source, options) as f:
        schema = pq.read_schema(f)
    columns = {f.name: str(f.type) for f in schema}
    problems = validate_spec(spec, columns)
    if problems:
        raise SpecError(problems)
    workers = worker_addresses(client)
    if not workers:
        raise DistributedFailed("the Dask cluster has no workers")
    pieces = _pieces(source, options, PARTITIONS_PER_WORKER * len(workers))
    lengths = [stop - start for _g, start, stop in pieces]

    # The label (and time) columns, read here: the split is drawn exactly as locally.
    small_columns = [spec.label, *([spec.time_column] if spec.split == "time" else [])]
    with _open(source, options) as f:
        small_table = pq.read_table(f, columns=small_columns)
    y_all, present, classes, rows = labelled_rows(spec, columns, small_table)
    n_classes = len(classes)
    order, n_train = _split_order(spec, small_table, rows, y_all)
    valid = np.zeros(len(y_all), dtype=bool)
    valid[order[n_train:]] = True
    del small_table, order

    features = list(spec.features)
    meta_schema = pa.schema([schema.field(f) for f in features])
    if spec.categorical is None:
        categorical = [f for f in features if _is_categorical_type(meta_schema.field(f).type)]
    else:
        categorical = [f for f in features if f in set(spec.categorical)]
    levels = {}
    for name in categorical:  # distinct values per piece on the workers, merged here
        found = client.gather([client.submit(distinct, source, options, p, name) for p in pieces])
        levels[name] = _levels(pa.chunked_array([pa.array(sorted(set().union(*found)), pa.string())]))
    dtype = np.dtype(_matrix_dtype(meta_schema.empty_table(), features, set(categorical))).name

    # Every piece encoded on a worker into its (train, valid) parts, held there; each piece
    # goes to the worker holding the fewest training rows so far.
    empty = _empty_frame(features)
    train_counts = _counts(lengths, present & ~valid)
    valid_counts = _counts(lengths, present & valid)
    train_parts, valid_parts, worker_rows = [], [], {}
    offset = 0
    for i, (piece, length) in enumerate(zip(pieces, lengths, strict=True)):
        window = slice(offset, offset + length)
        offset += length
        if not (train_counts[i] or valid_counts[i]):
            continue
        worker = min(workers, key=lambda w: (worker_rows.get(w, 0), w))  # the least loaded so far
        both = client.submit(
            prepare,
            source,
            options,
            piece,
            valid[window],
            present[window],
            features,
            levels,
            dtype,
            y_all[window],
            workers=[worker],
            pure=False,
        )
        worker_rows[worker] = worker_rows.get(worker, 0) + train_counts[i]
        if train_counts[i]:
            train_parts.append(client.submit(operator.getitem, both, 0, workers=[worker], pure=False))
        if valid_counts[i]:
            valid_parts.append(client.submit(operator.getitem, both, 1, workers=[worker], pure=False))
        del both
    _wait(train_parts + valid_parts)
    train = dd.from_delayed(train_parts, meta=empty)
    held = dd.from_delayed(valid_parts, meta=empty)

    params = resolved_params(spec)
    total = params["num_boost_round"]
    estimator = _lgb_estimator(spec, params, n_classes, client, timeout_minutes)
    names = (f"omm-rounds-{uuid.uuid4().hex}", f"omm-cancel-{uuid.uuid4().hex}")
    fit_kwargs: dict[str, Any] = {
        "X": train[features],
        "y": train[LABEL].astype(int if spec.objective != "regression" else float),
        "eval_X": (held[features],),
        "eval_y": (held[LABEL].astype(int if spec.objective != "regression" else float),),
        "eval_names": ["valid"],
        "callbacks": [_shipped(_RoundReporter(names[0], names[1], total))],
    }
    if categorical:
        fit_kwargs["categorical_feature"] = categorical
    started = time.monotonic()
    # LightGBM's own network time-out, plus a margin for the workers to report it.
    patience = timeout_minutes * 60 + 30
    log = _fit_watched(estimator, fit_kwargs, client, names, total, on_round, list(worker_rows), patience)
    booster = estimator.booster_
    best = booster.current_iteration()
    model_text = booster.model_to_string(num_iteration=best)

    # Validation scores computed where the rows are; labels and scores come back.
    text = client.scatter(model_text, broadcast=True)
    scored = client.gather([client.submit(valid_scores, p, text, features, pure=False) for p in valid_parts])
    y_valid = np.concatenate([s[0] for s in scored]) if scored else np.empty(0)
    pred = np.concatenate([s[1] for s in scored]) if scored else np.empty(0)
    if spec.objective == "multiclass":
        pred = pred.reshape(len(y_valid), n_classes)
    client.cancel(train_parts + valid_parts)

    meta = {
        "algorithm": "lightgbm",
        "objective": spec.objective,
        "features": features,
        "categorical_levels": levels,
        "label": spec.label,
        "label_classes": classes,
        "dtype": dtype,
    }
    if spec.objective == "binary":
        meta["event_value"] = classes[1]
    return TrainingResult(
        model_format="lightgbm-text",
        model_bytes=model_text.encode("utf-8"),
        best_iteration=best,
        metrics=_validation_metrics(spec.objective, y_valid, pred, n_classes),
        feature_names=features,
        categorical_levels=levels,
        fallback=None,
        rounds=_thin(log),
        library_versions={**library_versions(), **_dask_versions()},
        rows={
            "train": int((present & ~valid).sum()),
            "valid": int((present & valid).sum()),
            "dropped": int(len(present) - present.sum()),
        },
        seed=spec.seed,
        algorithm="lightgbm",
        params=params,
        meta=meta,
        engine={"name": "dask", "workers": worker_rows, "seconds": round(time.monotonic() - started, 3)},
    )


def _empty_frame(features: list[str]) -> Any:
    import pandas as pd

    return pd.DataFrame({**{f: np.zeros(0) for f in features}, LABEL: np.zeros(0)})


def _counts(lengths: list[int], mask: np.ndarray) -> list[int]:
    """Rows of ``mask`` in each partition."""
    bounds = np.cumsum([0, *lengths])
    return [int(mask[bounds[i] : bounds[i + 1]].sum()) for i in range(len(lengths))]


def _wait(futures: list) -> None:
    from distributed import wait

    wait(futures)
    failed = [f for f in futures if f.status == "error"]
    if failed:
        error = failed[0].exception()
        raise DistributedFailed(f"{type(error).__name__}: {error}")


def _dask_versions() -> dict[str, str]:
    import dask
    import distributed

    return {"dask": dask.__version__, "distributed": distributed.__version__}
