"""QA retrieval on the 150,000-line demo bank records: accuracy, latency, build and memory vs two peers.

    .venv/bin/python benchmarks/bench_qa.py              # --quick: 20,000 records, 2,000 questions
    .venv/bin/python benchmarks/bench_qa.py --calibrate  # refit the confidence (retrieval.CONFIDENCE_*)

Data: ``bank_records_frame(150_000, seed=7)``, checked by ``validate_bank_records`` as an
upload is; the model is built from the valid records' clean names. Questions:
``generate_questions(valid records, 10,000, seed=7)``, noisy variants of those names (see
apps/qa/questions.py) the model never saw; draws no system could answer (a name equal to
another's, or typo'd as close to another branch of the same bank and city) are drawn again
and counted. The ranking was tuned on questions of seed 1 and the confidence fitted on
seed 2; seed 7 is used for nothing but this report.

OMM: the index is built in a fresh process (time, peak RSS) and serialised; another fresh
process loads it (time, RSS); the questions are then asked in process, one at a time, and
latency percentiles are the best of ``--runs`` passes. A question counts as right when the
returned bank_code is the expected record's (a stricter test than the clearing code, which
all branches of a bank in a city share). "Answered" means ``sure``; top-5 counts the guess
and the next four candidates, sure or not.

Peers, on the same questions (a random ``--peer-questions`` subsample, as they scan every
name per question), each given the raw question against the names as written and,
separately, OMM's prepared question (normalised, unwrapped, aliases expanded) against the
names' normal forms, to tell the ranking from the preprocessing:
  - rapidfuzz ``process.extractOne(q, names, scorer=fuzz.WRatio)`` (top-1 only: ``extract``
    for a top-5 would double the longest part of the run);
  - brute-force TF-IDF: ``TfidfVectorizer(analyzer="char", ngram_range=(1, 2))`` fitted on
    the names, cosine of the question against all of them.
Neither can say "not sure": they answer every question.

Targets: top-1 among answered >= 99.9 %, not sure <= 1 %, p50 <= 1 ms, p99 <= 5 ms, build
<= 10 s, RSS <= 1 GiB, at least as accurate as both peers and >= 50x faster than rapidfuzz.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `apps` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._child import peak_rss_bytes, run_child

DATA_SEED = 7
QUESTION_SEED = 7  # never used while tuning (seed 1) or calibrating (seed 2)
CALIBRATION_SEED = 2
TARGET_TOP1 = 0.999
TARGET_NOT_SURE = 0.01
TARGET_P50_MS = 1.0
TARGET_P99_MS = 5.0
TARGET_BUILD_S = 10.0
TARGET_RSS = 1 << 30
TARGET_RATIO = 50.0
CALIBRATION_ERROR_SHARE = 0.5  # the threshold keeps calibration errors to half the top-1 target's allowance


def valid_records(rows: int):
    """The demo bank records that pass the bank-records checks, as a DataFrame."""
    import pyarrow as pa

    from apps.datasets.bank_records import validate_bank_records
    from apps.datasets.demo_data import bank_records_frame

    frame = bank_records_frame(rows, seed=DATA_SEED)
    result = validate_bank_records(pa.Table.from_pandas(frame, preserve_index=False), None, [])
    valid = frame[result.is_valid]
    # The records the figures have always been measured on: the checks before issue #16
    # (12 ASCII digits, OMM's Luhn check digit, one bank category, first use of a code),
    # so that figures stay comparable; the checks now also pass lines with warnings.
    twelve = valid["bank_code"].str.fullmatch(r"[0-9]{12}") & valid["clearing_code"].str.fullmatch(
        r"[0-9]{12}"
    )
    valid = valid[twelve.fillna(False).astype(bool)]
    checked = valid["bank_code"].map(_luhn_ok) & valid["clearing_code"].map(_luhn_ok)
    same_bank = valid["bank_code"].str[:3] == valid["clearing_code"].str[:3]
    return valid[checked & same_bank & ~valid["bank_code"].duplicated()].reset_index(drop=True)


def _luhn_ok(code: str) -> bool:
    """Whether the 12th digit is the Luhn digit of the first eleven (OMM's check before #16)."""
    total = 0
    for i, ch in enumerate(reversed(code[:11])):
        d = (ord(ch) - 48) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10) == code[11]


def _rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _child_build(arg: str) -> dict:
    import pandas as pd

    from apps.qa.retrieval import RetrievalIndex

    records_path, index_path = arg.split("|")
    records = pd.read_parquet(records_path)
    before = peak_rss_bytes()
    start = time.perf_counter()
    index = RetrievalIndex.build(records)
    seconds = time.perf_counter() - start
    data = index.to_bytes()
    Path(index_path).write_bytes(data)
    return {"seconds": seconds, "rss_growth": peak_rss_bytes() - before, "peak_rss": peak_rss_bytes()}


def _child_load(index_path: str) -> dict:
    from apps.qa.retrieval import RetrievalIndex

    data = Path(index_path).read_bytes()
    start = time.perf_counter()
    index = RetrievalIndex.from_bytes(data)
    seconds = time.perf_counter() - start
    del data
    index.ask("工行北京海淀支行的联行号是多少")
    return {"seconds": seconds, "rss": _rss_bytes(), "peak_rss": peak_rss_bytes(), "records": len(index)}


def _percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), q))


def _omm(index, questions, runs: int) -> dict:
    """Answers (from the first pass) and the best pass's latency percentiles, in ms."""
    answers, best = [], None
    for run in range(runs):
        times = []
        for q in questions:
            start = time.perf_counter()
            answer = index.ask(q.text)
            times.append((time.perf_counter() - start) * 1e3)
            if run == 0:
                answers.append(answer)
        stats = {
            "p50": _percentile(times, 50),
            "p99": _percentile(times, 99),
            "mean": sum(times) / len(times),
        }
        if best is None or stats["p99"] < best["p99"]:
            best = stats
    return {"answers": answers, **best}


def _rapidfuzz(names: list[str], codes: list[str], texts: list[str]) -> dict:
    from rapidfuzz import fuzz, process

    times, top1 = [], []
    for text in texts:
        start = time.perf_counter()
        best = process.extractOne(text, names, scorer=fuzz.WRatio)
        times.append((time.perf_counter() - start) * 1e3)
        top1.append(codes[best[2]])
    return {"top1": top1, "top5": None, "times": times}  # top-5 (process.extract) would double the run


def _tfidf(names: list[str], codes: list[str], texts: list[str]) -> dict:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    start = time.perf_counter()
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2))
    matrix = vectorizer.fit_transform(names).T.tocsr()  # terms x names, rows L2-normalised
    fit_seconds = time.perf_counter() - start
    times, top1, top5 = [], [], []
    for text in texts:
        start = time.perf_counter()
        scores = (vectorizer.transform([text]) @ matrix).toarray().ravel()
        best = int(np.argmax(scores))
        times.append((time.perf_counter() - start) * 1e3)
        top1.append(codes[best])
        top5.append([codes[i] for i in np.argpartition(-scores, 5)[:5]])
    return {"top1": top1, "top5": top5, "times": times, "fit_seconds": fit_seconds}


def _row(label: str, right: int, right5: int | None, total: int, times: list[float], extra: str = "") -> str:
    top5 = f"{right5 / total:8.2%}" if right5 is not None else f"{'-':>8}"
    timing = f"{_percentile(times, 50):9.2f} {_percentile(times, 99):9.2f}"
    return f"  {label:36} {right / total:8.2%} {top5} {timing}  {extra}"


def _by_noise(questions, answers) -> None:
    """Top-1 among answered and the not-sure share per kind of noise (a question has several)."""
    groups: dict[str, list[tuple[bool, bool]]] = {}
    for q, a in zip(questions, answers, strict=True):
        kinds = q.noise.split("+")
        typo = any(k.startswith("typo") for k in kinds)
        for kind in {*kinds, "with a typo" if typo else "without a typo"}:
            groups.setdefault(kind.split(":")[0] if kind.startswith("typo2") else kind, []).append(
                (a.sure, a.bank_code == q.bank_code)
            )
    print(f"by noise              {'questions':>9} {'top-1 answered':>15} {'not sure':>9}")
    for kind, rows in sorted(groups.items(), key=lambda item: -len(item[1])):
        answered = [right for sure, right in rows if sure]
        top1 = sum(answered) / len(answered) if answered else float("nan")
        print(f"  {kind:19} {len(rows):9,} {top1:15.2%} {1 - len(answered) / len(rows):9.2%}")


def _verdict(ok: bool) -> str:
    return "OK" if ok else "MISS"


def _spelling_closer(question: str, got: str, want: str) -> bool:
    """Whether the prepared question is at least as close, by edit distance, to ``got`` as to ``want``."""
    from rapidfuzz.distance import Levenshtein

    from apps.qa.retrieval import normalise

    return Levenshtein.distance(question, normalise(got)) <= Levenshtein.distance(question, normalise(want))


def calibrate(index, records, n: int) -> None:
    """Fit CONFIDENCE_* on n-gram answers to seed-2 questions and pick SURE_THRESHOLD.

    The threshold is the lowest (in hundredths) at which the calibration questions' wrong
    answers among the answered stay within CALIBRATION_ERROR_SHARE of what the top-1 target
    allows: say "not sure" as seldom as accuracy permits, with room for sampling noise.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from apps.qa.questions import generate_questions

    questions = generate_questions(records, n, seed=CALIBRATION_SEED)
    features, right, fixed, fixed_wrong = [], [], 0, 0
    for q in questions:
        answer = index.ask(q.text, k=2)
        if answer.matched_by != "ngram":
            shared = answer.confidence < 0.5  # code/exact answers shared by several records
            fixed += shared
            fixed_wrong += not shared and answer.bank_code != q.bank_code
            continue
        runner_up = answer.candidates[0].score if answer.candidates else 0.0
        features.append([answer.score, answer.score - runner_up])
        right.append(answer.bank_code == q.bank_code)
    x, y = np.asarray(features), np.asarray(right)
    model = LogisticRegression(C=100.0, max_iter=5000).fit(x, y)
    a, c = model.coef_[0]
    b = model.intercept_[0]
    p = model.predict_proba(x)[:, 1]
    print(f"calibration: seed {CALIBRATION_SEED}, {n:,} questions, {len(y):,} answered by n-grams")
    print(f"CONFIDENCE_A = {a:.2f}\nCONFIDENCE_B = {b:.2f}\nCONFIDENCE_C = {c:.2f}")
    allowed = (1 - TARGET_TOP1) * CALIBRATION_ERROR_SHARE
    chosen = None
    for hundredths in range(50, 100):
        threshold = hundredths / 100
        answered = int((p >= threshold).sum()) + (n - len(y) - fixed)
        wrong = int((~y[p >= threshold]).sum()) + fixed_wrong
        if hundredths % 5 == 0:
            print(
                f"  threshold {threshold:.2f}: not sure {1 - answered / n:6.2%},"
                f" wrong among answered {wrong} ({wrong / answered:.3%})"
            )
        if chosen is None and wrong <= allowed * answered:
            chosen = threshold
    print(f"SURE_THRESHOLD = {chosen}  (the lowest with wrong answers <= {allowed:.3%} of those answered)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 records, 2,000 questions, 200 for peers")
    parser.add_argument("--questions", type=int, default=None, help="questions for OMM (default 10,000)")
    parser.add_argument("--peer-questions", type=int, default=None, help="subsample for the peers (1,000)")
    parser.add_argument("--runs", type=int, default=3, help="latency passes (best is reported)")
    parser.add_argument("--calibrate", action="store_true", help="refit the confidence on seed-2 questions")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    rows = 20_000 if args.quick else 150_000
    n_questions = args.questions or (2_000 if args.quick else 10_000)
    n_peer = min(args.peer_questions or (200 if args.quick else 1_000), n_questions)
    module = "benchmarks.bench_qa"

    from apps.qa.questions import generate_questions
    from apps.qa.retrieval import RetrievalIndex

    records = valid_records(rows)
    with tempfile.TemporaryDirectory(prefix="omm-bench-qa-") as tmp:
        records_path, index_path = Path(tmp) / "records.parquet", Path(tmp) / "index.zip"
        records.to_parquet(records_path)
        builds = [run_child(module, "build", Path(f"{records_path}|{index_path}")) for _ in range(2)]
        load = run_child(module, "load", index_path)
        artifact = index_path.read_bytes()
    index = RetrievalIndex.from_bytes(artifact)
    if args.calibrate:
        calibrate(index, records, 10_000 if args.quick else 40_000)
        return 0

    redrawn: dict[str, int] = {}
    questions = generate_questions(records, n_questions, seed=QUESTION_SEED, redrawn=redrawn)
    omm = _omm(index, questions, args.runs)
    answers = omm["answers"]
    want = [q.bank_code for q in questions]
    sure = [a.sure for a in answers]
    answered = sum(sure)
    right_sure = sum(a.bank_code == w for a, w, s in zip(answers, want, sure, strict=True) if s)
    right_all = sum(a.bank_code == w for a, w in zip(answers, want, strict=True))
    right5 = sum(w in a.codes(5) for a, w in zip(answers, want, strict=True))
    clearing_sure = sum(
        a.clearing_code == q.clearing_code for a, q, s in zip(answers, questions, sure, strict=True) if s
    )
    top1 = right_sure / answered
    not_sure = 1 - answered / len(questions)
    names = records["bank_name"].tolist()
    by_code = dict(zip(records["bank_code"], names, strict=True))
    wrong = [(q, a) for q, a in zip(questions, answers, strict=True) if a.sure and a.bank_code != q.bank_code]
    closer = sum(_spelling_closer(a.question, a.bank_name, by_code[q.bank_code]) for q, a in wrong)
    how = {kind: sum(a.matched_by == kind for a in answers) for kind in ("code", "exact", "ngram", "none")}

    # Peers, on the same subsample of questions.
    pick = sorted(random.Random(0).sample(range(len(questions)), n_peer))
    sub = [questions[i] for i in pick]
    raw = [q.text for q in sub]
    prepared = [answers[i].question for i in pick]
    codes = records["bank_code"].tolist()
    normal = index.normal  # the prepared questions are compared with the names' normal forms
    codes_indexed = [str(code) for code in index.a["bank_code"].tolist()]
    fuzz_raw, fuzz_prep = _rapidfuzz(names, codes, raw), _rapidfuzz(normal, codes_indexed, prepared)
    tfidf_raw, tfidf_prep = _tfidf(names, codes, raw), _tfidf(normal, codes_indexed, prepared)
    omm_sub = [answers[i] for i in pick]
    sub_want = [q.bank_code for q in sub]
    omm_sub_times = []
    for q in sub:  # the same subsample timed alone, for the ratio
        start = time.perf_counter()
        index.ask(q.text)
        omm_sub_times.append((time.perf_counter() - start) * 1e3)

    def peer_counts(result: dict) -> tuple[int, int | None]:
        r1 = sum(g == w for g, w in zip(result["top1"], sub_want, strict=True))
        if result["top5"] is None:
            return r1, None
        return r1, sum(w in g for g, w in zip(result["top5"], sub_want, strict=True))

    mib = 1024 * 1024
    build_best = min(b["seconds"] for b in builds)
    build_rss = max(b["peak_rss"] for b in builds)
    ratio = _percentile(fuzz_raw["times"], 50) / _percentile(omm_sub_times, 50)
    rss_ok = max(load["peak_rss"], build_rss) <= TARGET_RSS
    print(f"cores                 {os.cpu_count()}")
    print(
        f"records               {len(records):,} valid of {rows:,} (seed {DATA_SEED}), {len(index):,} indexed"
    )
    print(
        f"build                 {build_best:6.2f} s best of {len(builds)} (target <= {TARGET_BUILD_S:.0f} s:"
        f" {_verdict(build_best <= TARGET_BUILD_S)}), peak RSS {build_rss / mib:,.0f} MiB"
    )
    print(f"artifact              {len(artifact) / mib:6.1f} MiB (zip of .npy + JSON)")
    print(
        f"load                  {load['seconds']:6.2f} s, RSS after load {load['rss'] / mib:,.0f} MiB,"
        f" peak {load['peak_rss'] / mib:,.0f} MiB"
        f" (target <= {TARGET_RSS / mib:,.0f} MiB: {_verdict(rss_ok)})"
    )
    print(f"questions             {len(questions):,} (seed {QUESTION_SEED}); matched by {how}")
    print(
        f"redrawn               {redrawn.get('same_name', 0):,} drawn equal to another name,"
        f" {redrawn.get('typo_as_close', 0):,} typo'd as close to another branch (apps/qa/questions.py)"
    )
    print(
        f"OMM top-1 answered    {top1:8.3%} of {answered:,} (target >= {TARGET_TOP1:.1%}:"
        f" {_verdict(top1 >= TARGET_TOP1)}); clearing code right {clearing_sure / answered:.3%}"
    )
    print(
        f"OMM not sure          {not_sure:8.3%} (target <= {TARGET_NOT_SURE:.0%}:"
        f" {_verdict(not_sure <= TARGET_NOT_SURE)})"
    )
    print(f"OMM top-1 all / top-5 {right_all / len(questions):8.3%} / {right5 / len(questions):.3%}")
    print(
        f"OMM latency           p50 {omm['p50']:.3f} ms (target <= {TARGET_P50_MS:.0f}: "
        f"{_verdict(omm['p50'] <= TARGET_P50_MS)}), p99 {omm['p99']:.3f} ms (target <= {TARGET_P99_MS:.0f}:"
        f" {_verdict(omm['p99'] <= TARGET_P99_MS)}), mean {omm['mean']:.3f} ms; best of {args.runs}"
    )
    print(
        f"wrong but sure        {len(wrong)}; the question is as close or closer by edit distance to the"
        f" returned name than to the expected one in {closer}"
    )
    for q, a in wrong[:8]:
        print(f"    {q.text!r} [{q.noise}] -> {a.bank_name} (want {by_code[q.bank_code]})")
    _by_noise(questions, answers)
    print(f"side by side          {n_peer:,} questions (random subsample); peers answer every question")
    print(f"  {'':36} {'top-1':>8} {'top-5':>8} {'p50 ms':>9} {'p99 ms':>9}")
    r1 = sum(a.bank_code == w for a, w in zip(omm_sub, sub_want, strict=True))
    r5 = sum(w in a.codes(5) for a, w in zip(omm_sub, sub_want, strict=True))
    sub_sure = [a for a in omm_sub if a.sure]
    sub_right = sum(a.bank_code == w for a, w in zip(omm_sub, sub_want, strict=True) if a.sure)
    print(
        _row(
            "OMM (all, incl. not sure)",
            r1,
            r5,
            n_peer,
            omm_sub_times,
            f"answered {len(sub_sure)}: top-1 {sub_right / max(len(sub_sure), 1):.2%}",
        )
    )
    accurate = True
    for label, result in (
        ("rapidfuzz WRatio, raw question", fuzz_raw),
        ("rapidfuzz WRatio, both normalised", fuzz_prep),
        ("TF-IDF char 1-2, raw question", tfidf_raw),
        ("TF-IDF char 1-2, both normalised", tfidf_prep),
    ):
        p1, p5 = peer_counts(result)
        accurate &= r1 >= p1
        print(_row(label, p1, p5, n_peer, result["times"]))
    print(f"  TF-IDF fit on the names: {tfidf_raw['fit_seconds']:.2f} s")
    print(
        f"speed-up vs rapidfuzz  {ratio:,.0f}x at p50 (target >= {TARGET_RATIO:.0f}x:"
        f" {_verdict(ratio >= TARGET_RATIO)}); OMM at least as accurate as every peer: {_verdict(accurate)}"
    )
    missed = (
        top1 < TARGET_TOP1
        or not_sure > TARGET_NOT_SURE
        or omm["p50"] > TARGET_P50_MS
        or omm["p99"] > TARGET_P99_MS
        or build_best > TARGET_BUILD_S
        or not rss_ok
        or ratio < TARGET_RATIO
        or not accurate
    )
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child = {"build": _child_build, "load": _child_load}[sys.argv[2]]
        print(json.dumps(child(sys.argv[3])))
    else:
        sys.exit(main())
