"""Batch scoring chunk by chunk: the functions both engines of a batch prediction use.

The local engine (``apps.models.batch``) reads the dataset version's Parquet copy in chunks
in the Celery worker; the dask engine hands each partition of ``dask.dataframe.read_parquet``
to ``partition_csv`` on a Dask worker. Either way a chunk becomes CSV rows through
``scored_table`` and ``csv_bytes``, so both engines write the same file.

The reason dictionary is the one thing scoring reads from the database: the caller passes it
as ``codes`` ((feature, bin) -> code, see ``reason_code``), so a Dask worker needs neither
Django nor OMM's code (the functions are pickled by value, see ``shipped``).

Pure module: no Django import.
"""

from __future__ import annotations

import collections
import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from apps.core.csvsafe import cell, neutralise_column

from . import scorecard
from .explain import DEFAULT_TOP_REASONS, explain, explainer_for, points
from .scoring import feature_matrix, score_matrix

# Rows scored at once: the feature matrix, the TreeSHAP contributions and the CSV text of
# this many rows stay in memory together.
CHUNK_ROWS = 200_000
# Partitions scored ahead of the one being written, per Dask worker thread: enough to keep
# the workers busy, few enough that the results waiting on the cluster stay small.
AHEAD_PER_THREAD = 2

# progress(rows written, rows in all): called before the first chunk and after each one; an
# exception it raises (a cancel) stops the scoring.
Progress = Callable[[int, int], None]


class PartitionFailed(RuntimeError):
    """A partition could not be scored on the cluster (``cause``: what the worker raised, or
    why the cluster lost it)."""

    def __init__(self, cause: BaseException):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


def shipped(fn: Any) -> Any:
    """``fn`` (``partition_csv``) pickled with this package's code and the CSV cell rule, for
    Dask workers that do not have OMM's code."""
    from apps.core import csvsafe, shipping

    from .. import training

    return shipping.by_value(fn, training, csvsafe)


def model_load(model_format: str, payload: bytes, trusted_types: list[str] | tuple[str, ...] = ()) -> Any:
    """The model in an artifact's payload, which the caller has verified (checksum, signature);
    a skops file loads against ``trusted_types`` only."""
    if model_format == "lightgbm-text":
        import lightgbm as lgb

        return lgb.Booster(model_str=payload.decode("utf-8"))
    if model_format == "skops":
        import skops.io as sio

        return sio.loads(payload, trusted=list(trusted_types))
    if model_format == scorecard.SCORECARD_FORMAT:
        return scorecard.card_loads(payload)
    raise ValueError(f"model format {model_format!r} does not score datasets")


def score_columns(scores: np.ndarray, objective: str, classes: list) -> dict[str, np.ndarray]:
    """``score`` (binary), ``prediction`` (regression) or one ``score_<class>`` per class."""
    if scores.ndim == 2:
        return {f"score_{c}": scores[:, i] for i, c in enumerate(classes or range(scores.shape[1]))}
    return {"prediction" if objective == "regression" else "score": scores}


def reason_code(codes: Mapping[tuple[str, str], str], reason: dict[str, Any]) -> str:
    """A reason's code in the dictionary: its feature and bin's, else its feature's, else ""."""
    code = codes.get((reason["feature"], reason.get("bin") or ""))
    if code is None:
        code = codes.get((reason["feature"], ""))
    return code or ""


def explained_columns(
    model_format: str, model: Any, X: np.ndarray, explainer: Any, codes: Mapping[tuple[str, str], str]
) -> dict[str, Any]:
    """A scorecard's ``points`` and, for models that give reasons, ``reason_1`` ... with the
    feature and ``reason_1_code`` with its code in the reason dictionary."""
    out: dict[str, Any] = {}
    card_points = points(model_format, model, X)
    if card_points is not None:
        out["points"] = card_points
    if explainer is None:
        return out
    k = DEFAULT_TOP_REASONS
    if explainer.kind == "additive":
        out.update(_additive_reasons(explainer, X, codes, k))
        return out
    rows = explain(explainer, X, k=k)  # a scorecard's reasons name bins, which have codes of their own
    for i in range(k):
        out[f"reason_{i + 1}"] = [cell(r[i]["feature"]) if i < len(r) else "" for r in rows]
        out[f"reason_{i + 1}_code"] = [cell(reason_code(codes, r[i])) if i < len(r) else "" for r in rows]
    return out


def _additive_reasons(
    explainer: Any, X: np.ndarray, codes: Mapping[tuple[str, str], str], k: int
) -> dict[str, np.ndarray]:
    """``training.explain.explain``'s top-``k`` reasons, for every row at once: the features
    with the largest positive contributions, largest first, ties in feature order (the same
    stable sort as ``reasons.top_reasons``, row by row). A batch needs only their names and
    codes, not the values and dicts a served prediction shows."""
    features = list(explainer.features)
    none = len(features)  # the index of "no reason": an empty cell
    names = np.array([cell(f) for f in features] + [""], dtype=object)
    coded = [cell(reason_code(codes, {"feature": f})) for f in features]
    feature_codes = np.array([*coded, ""], dtype=object)
    contrib = explainer.compiled.contributions(X)
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(contrib, order, axis=1)
    # A reason pushes toward the event; the first feature that does not ends the list.
    pick = np.where(np.cumprod(top > 0, axis=1).astype(bool), order, none)
    out: dict[str, np.ndarray] = {}
    for i in range(k):
        column = pick[:, i] if i < pick.shape[1] else np.full(len(X), none)
        out[f"reason_{i + 1}"] = names[column]
        out[f"reason_{i + 1}_code"] = feature_codes[column]
    return out


def scored_table(
    table: pa.Table,
    *,
    model_format: str,
    model: Any,
    meta: dict[str, Any],
    explainer: Any,
    keys: list[str],
    codes: Mapping[tuple[str, str], str],
) -> pa.Table:
    """The output rows of a chunk: its key columns (formula-safe), the scores, the points and
    the reasons."""
    X = feature_matrix(table, meta)
    scores = score_matrix(model_format, model, X, meta["objective"])
    columns: dict[str, Any] = {k: neutralise_column(table.column(k)) for k in keys}
    columns.update(score_columns(scores, meta.get("objective", ""), meta.get("label_classes") or []))
    columns.update(explained_columns(model_format, model, X, explainer, codes))
    return pa.table(columns)


def csv_bytes(table: pa.Table, *, header: bool) -> bytes:
    """``table`` as CSV, with the header line when ``header``."""
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=header))
    return buffer.getvalue()


def partition_csv(frame: Any, job: dict[str, Any], schema: pa.Schema) -> tuple[bytes, bytes, int]:
    """(header line, CSV rows, row count) of one partition: a pandas frame of
    ``dask.dataframe.read_parquet`` (Arrow-backed), brought back to the Parquet ``schema``.

    ``job``: ``format``, ``payload`` (the verified model bytes), ``trusted_types``, ``meta``,
    ``keys`` and ``codes``; sent once to every worker.
    """
    if len(frame) == 0:
        return b"", b"", 0
    raw = pa.Table.from_pandas(frame, preserve_index=False)
    table = pa.table({f.name: raw.column(f.name).cast(f.type) for f in schema})
    del raw
    model = model_load(job["format"], job["payload"], job.get("trusted_types") or ())
    explainer = explainer_for(job["format"], model, job["meta"])
    body = io.BytesIO()
    header = b""
    for start in range(0, table.num_rows, CHUNK_ROWS):
        scored = scored_table(
            table.slice(start, CHUNK_ROWS),
            model_format=job["format"],
            model=model,
            meta=job["meta"],
            explainer=explainer,
            keys=job["keys"],
            codes=job["codes"],
        )
        if not header:
            header = csv_bytes(scored.slice(0, 0), header=True)
        body.write(csv_bytes(scored, header=False))
    return header, body.getvalue(), table.num_rows


def _columns(job: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(list(job["keys"]) + list(job["meta"]["features"])))


def score_file(
    source: str | Path, out: IO[bytes], job: dict[str, Any], model: Any, progress: Progress
) -> int:
    """Score the Parquet file at ``source`` here, chunk by chunk, into ``out`` (the local
    engine); returns the rows written. ``model`` is the loaded model of ``job``."""
    explainer = explainer_for(job["format"], model, job["meta"])
    parquet = pq.ParquetFile(source)
    total = parquet.metadata.num_rows
    rows = 0
    progress(rows, total)
    for batch in parquet.iter_batches(batch_size=CHUNK_ROWS, columns=_columns(job)):
        scored = scored_table(
            pa.Table.from_batches([batch]),
            model_format=job["format"],
            model=model,
            meta=job["meta"],
            explainer=explainer,
            keys=job["keys"],
            codes=job["codes"],
        )
        out.write(csv_bytes(scored, header=rows == 0))
        rows += scored.num_rows
        progress(rows, total)
    return rows


def score_cluster(
    client: Any,
    path: str,
    out: IO[bytes],
    job: dict[str, Any],
    progress: Progress,
    *,
    storage_options: dict | None = None,
) -> int:
    """Score each partition of the Parquet file at ``path`` (a path every worker reaches, or
    a URL fsspec opens with ``storage_options``) on the cluster of ``client`` and write the
    CSV parts into ``out`` in file order (the dask engine); returns the rows written.

    The model travels once to every worker; a partition is a row group of the file. The
    client holds one partition's CSV at a time, while the cluster scores
    ``AHEAD_PER_THREAD`` partitions per worker thread ahead of it. Raises PartitionFailed.
    """
    import dask.dataframe as dd
    import fsspec

    columns = _columns(job)
    with fsspec.open(path, "rb", **(storage_options or {})) as fh:
        footer = pq.read_metadata(fh)
    total = footer.num_rows
    file_schema = footer.schema.to_arrow_schema()
    schema = pa.schema([file_schema.field(c) for c in columns])
    frames = dd.read_parquet(
        path,
        columns=columns,
        storage_options=storage_options or None,
        split_row_groups=True,  # one partition per row group
        dtype_backend="pyarrow",
        index=False,
    ).to_delayed()
    scorer = shipped(partition_csv)
    shared = client.scatter([job], broadcast=True)[0]
    ahead = AHEAD_PER_THREAD * max(sum(client.nthreads().values()), 1)
    pending: collections.deque = collections.deque()
    queued = rows = 0

    def submit() -> None:
        nonlocal queued
        frame = client.compute(frames[queued])
        pending.append(client.submit(scorer, frame, shared, schema, pure=False))
        queued += 1

    progress(rows, total)
    while queued < len(frames) and len(pending) < ahead:
        submit()
    header_written = False
    while pending:
        try:
            header, body, n = pending.popleft().result()
        except Exception as exc:
            raise PartitionFailed(exc) from exc
        if queued < len(frames):
            submit()
        if n:
            if not header_written:
                out.write(header)
                header_written = True
            out.write(body)
        rows += n
        progress(rows, total)
    return rows
