"""QA retrieval on real published bank registers, in every script: accuracy and latency per set.

    .venv/bin/python benchmarks/bench_qa_registers.py                 # every set, seed 13
    .venv/bin/python benchmarks/bench_qa_registers.py --seed 7        # a calibration seed (see below)
    .venv/bin/python benchmarks/bench_qa_registers.py --calibrate     # refit CONFIDENCE_OTHER_* on seed 2
    .venv/bin/python benchmarks/bench_qa_registers.py --records held_out.csv [--questions q.csv]

Sets (records OMM did not make):
  - one per country register shipped by ``schwifty`` (bank_registry/*.json: national bank
    codes, names and BICs, sourced by schwifty from the central banks' published lists),
    with at least ``MIN_RECORDS`` records; entries with several bank codes give a record
    per code; the first record of a code wins (as an upload keeps the first line of a
    code); a register without bank codes (CY, SA) is keyed by BIC;
  - ``ALL``: every schwifty register in one index (what an international register upload is);
  - ``NZ``: the New Zealand bank branch register shipped by ``python-stdnum`` (nz/banks.dat,
    Payments NZ), a record per branch named "<bank> <branch>";
  - ``CN``: 20,000 demo CNAPS records (seed 11) plus six real published CNAPS codes of the
    big banks' head offices (REAL_CNAPS);
  - ``CSV``: ``--records`` (columns bank_name, bank_code, and optionally clearing_code, bic,
    country, scheme) with ``--questions`` (columns question, bank_code, optionally asked)
    or, without it, questions generated from the records.

Questions: ``generate_register_questions`` (apps/qa/register_questions.py; CN: the Chinese
generator, apps/qa/questions.py), parameters fixed before any result was seen. The
confidence of answers on records not in Chinese characters (answers.CONFIDENCE_OTHER_*)
was fitted with --calibrate on seed 2 over the schwifty and NZ sets. Seeds 2 and 7 were
then used to investigate failures and fix their general causes (normalisation, legal
forms, banks named by record names, shared names, wrapper words ending names, look-alike
names): both are calibration seeds now, as are 3, 5 and 17, used later to find the causes
of "not sure" answers on small registers (legal forms written out loosely, a short name
inside a longer one). Seeds 13 (the default) and 31 are report seeds: looked at for the
report only, never tuned on.

Per set: top-1 among sure answers, not sure share, wrong-bank sure answers (a sure answer
naming another bank than the expected record's: another name, or for CNAPS another bank
category), asked field right among sure answers, latency p50/p99 in process (best of
``--runs`` passes), and for names shared by several records: how many of those questions
were answered sure (should be 0) and how often the expected record was among the candidates.

Targets on every set: top-1 >= 99.9 %, not sure <= 1 %, no wrong-bank sure answer,
p50 <= 1 ms, p99 <= 5 ms.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `apps` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUESTION_SEED = 13  # a report seed (as is 31); 2, 3, 5, 7 and 17 were used for calibration and investigation
CALIBRATION_SEED = 2
MIN_RECORDS = 40
TARGET_TOP1 = 0.999
TARGET_NOT_SURE = 0.01
TARGET_P50_MS = 1.0
TARGET_P99_MS = 5.0
CALIBRATION_ERROR_SHARE = 0.5  # as bench_qa.py: half the top-1 target's allowance
REAL_CNAPS = (  # published CNAPS codes of the big banks' head offices
    ("中国工商银行", "102100099996"),
    ("中国农业银行", "103100000026"),
    ("中国银行", "104100000004"),
    ("中国建设银行", "105100000017"),
    ("交通银行", "301290000007"),
    ("招商银行", "308584000013"),
)


def schwifty_registers() -> dict[str, list[dict]]:
    """Country -> records, from the JSON files schwifty ships."""
    import schwifty

    folder = Path(schwifty.__file__).with_name("bank_registry")
    by_country: dict[str, list[dict]] = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["entries"] if isinstance(data, dict) else data
        for e in entries:
            codes = e.get("bank_codes") or [e.get("bank_code", "")]
            for code in codes:
                by_country.setdefault(e["country_code"], []).append(
                    {"name": e["name"], "code": code, "bic": e.get("bic") or "", "primary": e.get("primary")}
                )
    out: dict[str, list[dict]] = {}
    for country, entries in by_country.items():
        if any(e["primary"] for e in entries) and any(e["primary"] is False for e in entries):
            entries = [e for e in entries if e["primary"]]  # the register's main line per code
        records, seen = [], set()
        for e in entries:
            code, scheme = (e["code"], "national") if e["code"] else (e["bic"], "bic")
            if not code or code in seen or not e["name"].strip():
                continue
            seen.add(code)
            records.append(
                {
                    "bank_name": e["name"].strip(),
                    "bank_code": code,
                    "clearing_code": "",
                    "bic": e["bic"],
                    "country": country,
                    "scheme": scheme,
                }
            )
        out[country] = records
    return out


def nz_register() -> list[dict]:
    """The New Zealand bank branch register python-stdnum ships (nz/banks.dat)."""
    import re

    import stdnum

    path = Path(stdnum.__file__).with_name("nz") / "banks.dat"
    records, bank_code, bank = [], "", ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        found = re.match(r'^(\s*)(\S+)\s+(\w+)="(.*)"', line)
        if not found:
            continue
        indent, code, kind, value = found.groups()
        if not indent and kind == "bank":
            bank_code, bank = code, value
        elif indent and kind == "branch":
            for branch in code.split(","):
                if "-" in branch:  # a range of branch numbers: no one code
                    continue
                records.append(
                    {
                        "bank_name": f"{bank} {value}",
                        "bank_code": f"{bank_code}-{branch}",
                        "clearing_code": "",
                        "bic": "",
                        "country": "NZ",
                        "scheme": "national",
                    }
                )
    return records


def cn_records():
    import pandas as pd

    from apps.datasets.demo_data import bank_records_bad_lines, bank_records_frame

    frame = bank_records_frame(20_000, seed=11)
    frame = frame.drop(index=bank_records_bad_lines(frame)["row"]).reset_index(drop=True)
    real = pd.DataFrame(
        [{"bank_name": name, "bank_code": code, "clearing_code": code} for name, code in REAL_CNAPS]
    )
    return pd.concat([frame[["bank_name", "bank_code", "clearing_code"]], real], ignore_index=True)


def csv_records(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    keys = ("bank_name", "bank_code", "clearing_code", "bic", "country", "scheme")
    out = [{k: (row.get(k) or "").strip() for k in keys} for row in rows]
    for row in out:
        row["scheme"] = row["scheme"] or ("cnaps" if row["clearing_code"] else "national")
    return out


def csv_questions(path: Path):
    from apps.qa.questions import Question

    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [
            Question(row["question"], row["bank_code"].strip(), "", "csv", (row.get("asked") or "bank_code"))
            for row in csv.DictReader(handle)
        ]


def _columns(records) -> dict[str, list[str]]:
    if hasattr(records, "columns"):
        return {c: records[c].tolist() for c in records.columns}
    return {k: [r[k] for r in records] for k in records[0]}


def _percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def _bank(name: str, code: str) -> str:
    """What tells two records' banks apart: the CNAPS bank category, else the name's normal form."""
    from apps.qa.retrieval import normalise
    from apps.qa.retrieval.codes import CNAPS_RE

    return code[:3] if CNAPS_RE.fullmatch(code) else normalise(name)


def _ask(index, text: str):
    from apps.qa.retrieval import EmptyQuestionError

    try:
        return index.ask(text, k=20)
    except EmptyQuestionError:
        return None


def run_set(label: str, records, questions, ambiguous, runs: int) -> dict:
    """Ask every question of a set; figures as in the module docstring."""
    from apps.qa.retrieval import Answer, EmptyQuestionError, RetrievalIndex

    columns = _columns(records)
    start = time.perf_counter()
    index = RetrievalIndex.build(columns)
    build = time.perf_counter() - start
    name_of = dict(zip(columns["bank_code"], columns["bank_name"], strict=True))
    answers, best = [], None
    for run in range(runs):
        times = []
        for q in questions:
            t0 = time.perf_counter()
            try:
                a = index.ask(q.text)
            except EmptyQuestionError:  # nothing to look up: counted as not sure
                a = Answer(q.text, None, None, None, 0.0, 0.0, False, "none")
            times.append((time.perf_counter() - t0) * 1e3)
            if run == 0:
                answers.append(a)
        if best is None or _percentile(times, 99) < _percentile(best, 99):
            best = times
    sure = [(q, a) for q, a in zip(questions, answers, strict=True) if a.sure]
    right = sum(a.bank_code == q.bank_code for q, a in sure)
    wrong = [(q, a) for q, a in sure if a.bank_code != q.bank_code]
    wrong_bank = [
        (q, a)
        for q, a in wrong
        if q.bank_code not in name_of
        or _bank(a.bank_name, a.bank_code) != _bank(name_of[q.bank_code], q.bank_code)
    ]
    asked_right = sum(a.asked == q.asked for q, a in sure if a.bank_code == q.bank_code)
    amb = [a for a in (_ask(index, q.text) for q in ambiguous) if a is not None]
    return {
        "set": label,
        "records": len(index),
        "questions": len(questions),
        "build_s": build,
        "top1": right / len(sure) if sure else float("nan"),
        # Counted, not 1 - a share: 2 of 200 is 1 % exactly, not 1.0000000000000009 %.
        "not_sure": (len(questions) - len(sure)) / len(questions) if questions else float("nan"),
        "wrong": len(wrong),
        "wrong_bank": len(wrong_bank),
        # The Chinese generator does not label the field asked (清算行号 questions among them).
        "asked": float("nan") if label == "CN" else asked_right / max(right, 1),
        "p50": _percentile(best or [], 50),
        "p99": _percentile(best or [], 99),
        "ambiguous": len(ambiguous),
        "ambiguous_sure": sum(a.sure for a in amb),
        "ambiguous_found": sum(
            a is not None and q.bank_code in a.codes(20)
            for q, a in zip(ambiguous, (_ask(index, q.text) for q in ambiguous), strict=True)
        ),
        "examples": [(q.text, q.noise, a.bank_name, name_of.get(q.bank_code, "?")) for q, a in wrong[:3]],
        "index": index,
        "pairs": list(zip(questions, answers, strict=True)),
    }


def sets(args) -> list[tuple[str, object, list, list]]:
    """(label, records, questions, ambiguous questions) for every set asked for."""
    from apps.qa.questions import generate_questions
    from apps.qa.register_questions import generate_register_questions

    seed = CALIBRATION_SEED if args.calibrate else args.seed
    out = []

    def register(label: str, records: list[dict]) -> None:
        n = min(args.questions, max(200, 3 * len(records)))
        drawn = generate_register_questions(_columns(records), n, seed=seed, ambiguous=min(200, n // 5))
        out.append((label, records, drawn.questions, drawn.ambiguous))

    if args.records:
        records = csv_records(Path(args.records))
        if args.questions_csv:
            out.append(("CSV", records, csv_questions(Path(args.questions_csv)), []))
        else:
            register("CSV", records)
        return out
    registers = schwifty_registers()
    for country, records in sorted(registers.items()):
        if len(records) >= MIN_RECORDS and (not args.only or country in args.only):
            register(country, records)
    if not args.only or "ALL" in args.only:
        register("ALL", [r for records in registers.values() for r in records])
    if not args.only or "NZ" in args.only:
        register("NZ", nz_register())
    if not args.calibrate and (not args.only or "CN" in args.only):
        records = cn_records()
        out.append(("CN", records, generate_questions(records, args.questions, seed=seed), []))
    return out


def calibrate(results: list[dict]) -> None:
    """Fit CONFIDENCE_OTHER_* on n-gram answers about records not in Chinese characters."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    features, right, fixed_answered, fixed_wrong, n = [], [], 0, 0, 0
    for result in results:
        index = result["index"]
        for q, a in result["pairs"]:
            n += 1
            if a.matched_by != "ngram":
                fixed_answered += a.sure
                fixed_wrong += a.sure and a.bank_code != q.bank_code
                continue
            full = index.ask(q.text, k=2)
            runner_up = full.candidates[0].score if full.candidates else 0.0
            features.append([full.score, full.score - runner_up])
            right.append(full.bank_code == q.bank_code)
    x, y = np.asarray(features), np.asarray(right)
    model = LogisticRegression(C=100.0, max_iter=5000).fit(x, y)
    (a, c), b = model.coef_[0], model.intercept_[0]
    p = model.predict_proba(x)[:, 1]
    print(f"calibration: seed {CALIBRATION_SEED}, {n:,} questions, {len(y):,} answered by n-grams")
    print(f"CONFIDENCE_OTHER_A = {a:.2f}\nCONFIDENCE_OTHER_B = {b:.2f}\nCONFIDENCE_OTHER_C = {c:.2f}")
    allowed = (1 - TARGET_TOP1) * CALIBRATION_ERROR_SHARE
    for hundredths in range(50, 100, 5):
        threshold = hundredths / 100
        answered = int((p >= threshold).sum()) + fixed_answered
        wrong = int((~y[p >= threshold]).sum()) + fixed_wrong
        print(
            f"  threshold {threshold:.2f}: not sure {1 - answered / n:6.2%}, wrong among answered {wrong}"
            f" ({wrong / max(answered, 1):.3%}; allowed {allowed:.3%})"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", help="a CSV of records (a held-out register)")
    parser.add_argument(
        "--questions-csv", help="a CSV of questions for --records (question, bank_code[, asked])"
    )
    parser.add_argument("--questions", type=int, default=2_000, help="questions per set at most (2,000)")
    parser.add_argument("--only", nargs="*", help="sets to run (country codes, ALL, NZ, CN)")
    parser.add_argument("--runs", type=int, default=3, help="latency passes (best is reported)")
    parser.add_argument(
        "--calibrate", action="store_true", help="refit CONFIDENCE_OTHER_* on seed-2 questions"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--seed", type=int, default=QUESTION_SEED, help=f"question seed ({QUESTION_SEED}; 2, 7: calibration)"
    )
    args = parser.parse_args()
    results = [
        run_set(label, r, q, amb, 1 if args.calibrate else args.runs) for label, r, q, amb in sets(args)
    ]
    if args.calibrate:
        calibrate([r for r in results if r["set"] != "CN"])
        return 0
    print(f"questions seed {args.seed} (confidence fitted on seed {CALIBRATION_SEED}; failures read on 2, 7)")
    header = (
        f"{'set':5} {'records':>8} {'questions':>9} {'top-1 sure':>10} {'not sure':>9} {'wrong':>6}"
        f" {'wrong bank':>10} {'asked ok':>9} {'p50 ms':>7} {'p99 ms':>7} {'shared: sure/found':>19}"
    )
    print(header)
    missed = False
    for r in results:
        ok = (
            r["top1"] >= TARGET_TOP1
            and r["not_sure"] <= TARGET_NOT_SURE
            and r["wrong_bank"] == 0
            and r["p50"] <= TARGET_P50_MS
            and r["p99"] <= TARGET_P99_MS
        )
        missed |= not ok
        shared = (
            f"{r['ambiguous_sure']}/{r['ambiguous_found']} of {r['ambiguous']}" if r["ambiguous"] else "-"
        )
        print(
            f"{r['set']:5} {r['records']:8,} {r['questions']:9,} {r['top1']:10.2%} {r['not_sure']:9.2%}"
            f" {r['wrong']:6} {r['wrong_bank']:10} {r['asked']:9.2%} {r['p50']:7.3f} {r['p99']:7.3f}"
            f" {shared:>19} {'OK' if ok else 'MISS'}"
        )
    for r in results:
        for text, noise, got, want in r["examples"]:
            print(f"  {r['set']}: {text!r} [{noise}] -> {got} (want {want})")
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
