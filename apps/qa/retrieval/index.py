"""RetrievalIndex: building from records, answering (code, exact, n-gram candidates and
rescoring, confidence) and serialisation to a zip of .npy arrays (no pickle).

Definitions are in the package docstring (apps.qa.retrieval). Pure module: no Django import.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from .aliases import DEFAULT_ALIASES, _Aliases
from .answers import SURE_THRESHOLD, Answer, Candidate, EmptyQuestionError, MatchedBy, confidence
from .grams import CHAR_BITS, _alphabet, _grams, _sorted_unique
from .normalise import _LEGAL_RE, _compact, _Context, normalise, office, strip_wrappers
from .phonetics import _LATIN_RUN, _Latin, sound_table
from .records import read_records

FORMAT = "omm-retrieval"
FORMAT_VERSION = 1

MAX_QUESTION_CHARS = 200  # and here once normalised and unwrapped
MAX_K = 20  # answers return at most this many records (the guess and the candidates)
MAX_RECORDS = 1 << 22  # record ids and gram keys share one int64 while grams are counted
BUILD_CHUNK = 16_384  # records whose grams are made at once while building
MAX_ARTIFACT_BYTES = 1 << 30  # a serialised index (and its unpacked members) stays below this

# Ranking. Tuned on generated questions of seed 1 (see benchmarks/bench_qa.py).
POSTING_BUDGET = 4_000  # postings read per question to collect candidates
RESCORED = 64  # candidates scored on their full gram sets
MAX_WEIGHT = 7.0  # cap on a gram's weight: a gram in 1 record in 150,000 weighs as one in 130
QUESTION_SHARE = 0.6  # share of the question's weight in the score's denominator
UNKNOWN_GRAM_WEIGHT = 4.0  # weight of a question gram no record has (a typo, a stray word)
BANK_CONFLICT = 0.55  # score factor when the question names another bank
OFFICE_CONFLICT = 0.8  # score factor when it names another kind of office
BANK_BONUS = 1_000.0  # added while collecting candidates, so the named bank's records come first

_CODE_RE = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_WHOLE_CODE_RE = re.compile(r"[0-9]{12}")


class _Ranked(NamedTuple):
    """Candidates best first: record ids and scores."""

    ids: np.ndarray
    scores: np.ndarray


_NOTHING = _Ranked(np.zeros(0, np.int64), np.zeros(0))


# --- the index ---------------------------------------------------------------------------

_ARRAYS = {  # name -> dtype of every array an index holds
    "bank_code": "S12",
    "clearing_code": "S12",
    "code_order": "int32",  # record ids sorted by bank_code
    "clearing_order": "int32",  # and by clearing_code
    "bank_of": "int16",  # bank id of each record (-1: none known)
    "office": "int8",  # kind of office of each record (0: none)
    "alphabet": "int64",
    "sound_cps": "int64",
    "sound_ids": "int16",
    "vocab": "int64",  # gram keys, sorted; gram id = place here
    "weight": "float32",  # per gram
    "doc_offsets": "int64",  # record -> its gram ids
    "doc_grams": "int32",
    "doc_weight": "float32",  # w(D) per record
    "post_offsets": "int64",  # gram -> the records holding it, in record order
    "postings": "int32",
}


class RetrievalIndex:
    """Bank records indexed for :meth:`ask`. Made by :meth:`build` or :meth:`from_bytes`."""

    def __init__(
        self,
        names: list[str],
        normal: list[str],
        arrays: dict[str, np.ndarray],
        aliases: _Aliases,
        context: _Context,
    ) -> None:
        self.names = names
        self.normal = normal
        self.a = arrays
        self.aliases = aliases
        self.context = context
        self.n = len(names)
        self._latin: _Latin | None = None
        # Exact lookup: normal form -> record ids (several when records share a normal form).
        self.exact: dict[str, list[int]] = {}
        for i, text in enumerate(normal):
            self.exact.setdefault(text, []).append(i)

    def __len__(self) -> int:
        return self.n

    # build -------------------------------------------------------------------------------

    @classmethod
    def build(cls, records: Any, aliases: Mapping[str, str] | None = None) -> RetrievalIndex:
        """Index ``records`` (see :func:`read_records`), each with a 12-digit bank_code and
        clearing_code; records whose name normalises to nothing are left out. ``aliases``
        (short -> full bank name) defaults to ``DEFAULT_ALIASES``. Raises ValueError on a
        malformed code or too many records.
        """
        names_in, codes_in, clearing_in = read_records(records)
        for code in (*codes_in, *clearing_in):
            if not _WHOLE_CODE_RE.fullmatch(code):
                raise ValueError(f"bank_code and clearing_code must be 12 digits, got {code[:40]!r}")
        normal_in = [normalise(name) for name in names_in]
        keep = [i for i, text in enumerate(normal_in) if text]
        if len(keep) > MAX_RECORDS:
            raise ValueError(f"at most {MAX_RECORDS:,} records can be indexed, got {len(keep):,}")
        names = [names_in[i] for i in keep]
        normal = [normal_in[i] for i in keep]
        n = len(names)

        table = DEFAULT_ALIASES if aliases is None else aliases
        banks_only = _Aliases.from_table(table)
        bank_of = np.array([banks_only.record_bank(text) for text in normal], dtype=np.int16)
        banks = banks_only.banks
        rests = "\x00".join(
            t[len(banks[b]) :] if b >= 0 else t for t, b in zip(normal, bank_of.tolist(), strict=True)
        )

        alphabet = _alphabet(normal)
        if alphabet.size >= 1 << CHAR_BITS:
            raise ValueError("too many distinct characters in the record names")
        sound_cps, sound_ids = sound_table()
        tables = {"alphabet": alphabet, "sound_cps": sound_cps, "sound_ids": sound_ids}
        # Grams chunk by chunk, so the temporaries of 150,000 names stay small; then only
        # int64 keys and int32 ids, sorted in place.
        keys_parts, doc_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int32)]
        for lo in range(0, n, BUILD_CHUNK):
            chunk_keys, chunk_doc = _grams(normal[lo : lo + BUILD_CHUNK], tables)
            keys_parts.append(chunk_keys)
            doc_parts.append((chunk_doc + lo).astype(np.int32))
        keys, doc = np.concatenate(keys_parts), np.concatenate(doc_parts)
        del keys_parts, doc_parts
        vocab = _sorted_unique(np.sort(keys))
        gram = np.searchsorted(vocab, keys).astype(np.int32)
        del keys
        df = np.bincount(gram, minlength=vocab.size)
        weight = np.minimum(np.log1p(n / np.maximum(df, 1)), MAX_WEIGHT).astype(np.float32)
        by_gram = (gram.astype(np.int64) << np.int64(32)) | doc
        by_gram.sort()  # by gram, then record
        postings = by_gram.astype(np.int32)  # the low 32 bits: the record
        del by_gram
        arrays = {
            "bank_code": np.array([codes_in[i] for i in keep], dtype="S12"),
            "clearing_code": np.array([clearing_in[i] for i in keep], dtype="S12"),
            "bank_of": bank_of,
            "office": np.array([office(t) for t in normal], dtype=np.int8),
            **tables,
            "vocab": vocab,
            "weight": weight,
            "doc_offsets": np.concatenate(([0], np.cumsum(np.bincount(doc, minlength=n)))).astype(np.int64),
            "doc_grams": gram,
            "doc_weight": np.bincount(doc, weights=weight[gram], minlength=n).astype(np.float32),
            "post_offsets": np.concatenate(([0], np.cumsum(df))).astype(np.int64),
            "postings": postings,
        }
        arrays["code_order"] = np.argsort(arrays["bank_code"], kind="stable").astype(np.int32)
        arrays["clearing_order"] = np.argsort(arrays["clearing_code"], kind="stable").astype(np.int32)
        return cls(names, normal, arrays, _Aliases.from_table(table, rests), _Context.from_records(rests))

    # ask ---------------------------------------------------------------------------------

    def ask(self, question: str, k: int = 5) -> Answer:
        """Answer ``question`` with the best record and up to ``k - 1`` next candidates.

        ``k`` is clamped to 1..MAX_K. Raises EmptyQuestionError (a ValueError) when the
        question holds nothing to look up, TypeError when it is not a string.
        """
        if not isinstance(question, str):
            raise TypeError("question must be a string")
        k = min(max(1, int(k)), MAX_K)
        compact = _compact(question)
        if not compact:
            raise EmptyQuestionError("the question is empty")
        found = _CODE_RE.search(compact)
        if found:
            rows = self._by_code(found.group())
            if rows:
                candidates = [self._candidate(i, 1.0) for i in rows[1:k]]
                return self._answer(found.group(), rows[0], 1.0, 1 / len(rows), "code", candidates)
            # An unknown code: look up the rest of the question, if there is any.
            compact = _CODE_RE.sub("", compact)
            if not strip_wrappers(compact):
                return Answer(found.group(), None, None, None, 0.0, 0.0, False, "code")
        text = _LEGAL_RE.sub("", strip_wrappers(compact))
        if not text:
            raise EmptyQuestionError("the question names no bank or code")
        text, bank = self.aliases.expand(text)
        if _LATIN_RUN.search(text):
            text = self.latin(text)
        start = (
            len(self.aliases.banks[bank]) if bank >= 0 and text.startswith(self.aliases.banks[bank]) else 0
        )
        text = self.context.drop(text, start)[:MAX_QUESTION_CHARS]

        ranked = self._rank(text, bank)
        exact = self.exact.get(text)
        if exact:
            ranked_pairs = zip(ranked.ids.tolist(), ranked.scores.tolist(), strict=True)
            others = [(i, s) for i, s in ranked_pairs if i not in exact][: k - 1]
            candidates = [self._candidate(i, 1.0) for i in exact[1:k]]
            candidates += [self._candidate(i, s) for i, s in others]
            return self._answer(text, exact[0], 1.0, 1.0 / len(exact), "exact", candidates[: k - 1])
        if ranked.ids.size == 0:
            return Answer(text, None, None, None, 0.0, 0.0, False, "none")
        best = float(ranked.scores[0])
        margin = best - float(ranked.scores[1]) if ranked.ids.size > 1 else best
        candidates = [
            self._candidate(i, s)
            for i, s in zip(ranked.ids[1:k].tolist(), ranked.scores[1:k].tolist(), strict=True)
        ]
        return self._answer(text, int(ranked.ids[0]), best, confidence(best, margin), "ngram", candidates)

    @property
    def latin(self) -> _Latin:
        """The reader of pinyin and English in questions (made on first use, or by warm)."""
        self.warm()
        assert self._latin is not None
        return self._latin

    def warm(self) -> None:
        """Make now what the first question in pinyin would otherwise wait for (~0.1 s)."""
        if self._latin is None:
            self._latin = _Latin(self.a["alphabet"], self.normal)

    def _answer(
        self, text: str, i: int, score: float, conf: float, how: MatchedBy, candidates: list[Candidate]
    ) -> Answer:
        best = self._candidate(i, score)
        conf = round(conf, 4)
        return Answer(
            text,
            best.bank_name,
            best.bank_code,
            best.clearing_code,
            best.score,
            conf,
            conf >= SURE_THRESHOLD,
            how,
            candidates,
        )

    def _candidate(self, i: int, score: float) -> Candidate:
        a = self.a
        code, clearing = a["bank_code"][i].decode(), a["clearing_code"][i].decode()
        return Candidate(self.names[i], code, clearing, round(float(score), 4))

    def _by_code(self, code: str) -> list[int]:
        """Records whose bank_code is ``code``, else those that clear through it."""
        key = np.bytes_(code)
        for column, order in (("bank_code", "code_order"), ("clearing_code", "clearing_order")):
            values, by = self.a[column], self.a[order]
            lo = int(np.searchsorted(values, key, side="left", sorter=by))
            hi = int(np.searchsorted(values, key, side="right", sorter=by))
            if hi > lo:
                return sorted(by[lo:hi].tolist())
        return []

    def _rank(self, text: str, bank: int) -> _Ranked:
        """Up to ``RESCORED`` candidate records for a prepared question, best first."""
        a = self.a
        vocab, weight = a["vocab"], a["weight"]
        keys = np.sort(_grams([text], a)[0])
        if vocab.size == 0 or keys.size == 0:
            return _NOTHING
        pos = np.minimum(np.searchsorted(vocab, keys), vocab.size - 1)
        known = vocab[pos] == keys
        q = pos[known]  # gram ids, sorted as the keys are
        if q.size == 0:
            return _NOTHING
        w_q = float(weight[q].sum()) + UNKNOWN_GRAM_WEIGHT * int((~known).sum())

        # Candidates: the postings of the rarest grams, within the budget (at least one gram).
        starts, ends = a["post_offsets"][q], a["post_offsets"][q + 1]
        df = ends - starts
        order = np.argsort(df, kind="stable")
        take = order[np.cumsum(df[order]) <= POSTING_BUDGET]
        if take.size == 0:
            take = order[:1]
        postings = a["postings"]
        spans = zip(starts[take].tolist(), ends[take].tolist(), strict=True)
        ids = np.concatenate([postings[s:e] for s, e in spans])
        partial = np.bincount(ids, weights=np.repeat(weight[q[take]], df[take]), minlength=self.n)

        def guess(rows: np.ndarray) -> np.ndarray:
            # The score's shape on the rare grams alone, so that ties go to shorter names.
            g = partial[rows] / (QUESTION_SHARE * w_q + (1.0 - QUESTION_SHARE) * a["doc_weight"][rows])
            return g + BANK_BONUS * (a["bank_of"][rows] == bank) if bank >= 0 else g

        room = RESCORED * 8  # a record is listed once per gram it holds: keep room, then dedupe
        if ids.size > room:
            ids = ids[np.argpartition(guess(ids), -room)[-room:]]
        cand = _sorted_unique(np.sort(ids))
        if cand.size > RESCORED:
            cand = cand[np.argpartition(guess(cand), -RESCORED)[-RESCORED:]]

        # Score on the full gram sets.
        lo, hi = a["doc_offsets"][cand], a["doc_offsets"][cand + 1]
        lens = hi - lo
        flat = np.repeat(lo - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
        grams = a["doc_grams"][flat]
        held = q[np.minimum(np.searchsorted(q, grams), q.size - 1)] == grams
        overlap = np.add.reduceat(np.where(held, weight[grams], 0.0), np.cumsum(lens) - lens)
        score = overlap / (QUESTION_SHARE * w_q + (1.0 - QUESTION_SHARE) * a["doc_weight"][cand])
        if bank >= 0:
            other = a["bank_of"][cand]
            score = np.where((other >= 0) & (other != bank), score * BANK_CONFLICT, score)
        kind = office(text)
        if kind:
            other = a["office"][cand]
            score = np.where((other > 0) & (other != kind), score * OFFICE_CONFLICT, score)
        best = np.lexsort((cand, lens, -score))  # ties: shorter name, then record order
        return _Ranked(cand[best], score[best])

    # serialisation -----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The index as a zip of ``.npy`` arrays plus ``meta.json`` (no pickle)."""
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "records": self.n,
            "names": self.names,
            "normal": self.normal,
            "aliases": self.aliases.aliases,
            "banks": self.aliases.banks,
            "weak": sorted(self.aliases.weak),
            "provinces": self.context.provinces,
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.writestr("meta.json", json.dumps(meta, ensure_ascii=False))
            for name in _ARRAYS:
                member = io.BytesIO()
                np.save(member, self.a[name], allow_pickle=False)
                zf.writestr(f"{name}.npy", member.getvalue())
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> RetrievalIndex:
        """Load what :meth:`to_bytes` wrote. Raises ValueError on anything else."""
        if not isinstance(data, bytes | bytearray | memoryview) or len(data) > MAX_ARTIFACT_BYTES:
            raise ValueError("not an OMM retrieval index: expected bytes under the size limit")
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                infos = {info.filename: info for info in zf.infolist()}
                expected = {"meta.json", *(f"{name}.npy" for name in _ARRAYS)}
                if set(infos) != expected:
                    raise ValueError(f"unexpected members {sorted(set(infos) ^ expected)}")
                if sum(info.file_size for info in infos.values()) > MAX_ARTIFACT_BYTES:
                    raise ValueError("members too large")
                meta = json.loads(zf.read("meta.json").decode("utf-8"))
                arrays = {
                    name: np.load(io.BytesIO(zf.read(f"{name}.npy")), allow_pickle=False) for name in _ARRAYS
                }
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, UnicodeDecodeError) as exc:
            raise ValueError(f"not an OMM retrieval index: {exc}") from exc
        except ValueError as exc:  # np.load refusing an object array, bad JSON, the checks above
            raise ValueError(f"not an OMM retrieval index: {exc}") from exc
        _check(meta, arrays)
        aliases = _Aliases(meta["aliases"], meta["banks"], meta["weak"])
        return cls(meta["names"], meta["normal"], arrays, aliases, _Context(meta["provinces"]))


def _check(meta: Any, arrays: dict[str, np.ndarray]) -> None:
    """Refuse an index whose parts do not fit together, so that no lookup can go out of bounds."""

    def fail(why: str) -> None:
        raise ValueError(f"not an OMM retrieval index: {why}")

    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        fail("wrong format")
    if meta.get("version") != FORMAT_VERSION:
        fail(f"format version {meta.get('version')!r}, this OMM reads {FORMAT_VERSION}")
    n, names, normal = meta.get("records"), meta.get("names"), meta.get("normal")
    if not isinstance(n, int) or not isinstance(names, list) or not isinstance(normal, list):
        fail("bad metadata")
    if len(names) != n or len(normal) != n or not all(isinstance(s, str) for s in (*names, *normal)):
        fail("names do not match the record count")
    aliases, banks, weak, provinces = (meta.get(key) for key in ("aliases", "banks", "weak", "provinces"))
    if not (isinstance(aliases, dict) and all(isinstance(x, list) for x in (banks, weak, provinces))):
        fail("bad alias table")
    if not all(isinstance(x, str) for x in (*aliases, *aliases.values(), *banks, *weak, *provinces)):
        fail("bad alias table")
    for name, dtype in _ARRAYS.items():
        if arrays[name].dtype != np.dtype(dtype) or arrays[name].ndim != 1:
            fail(f"{name} is {arrays[name].dtype}, expected {dtype}")
    per_record = (
        "bank_code",
        "clearing_code",
        "code_order",
        "clearing_order",
        "bank_of",
        "office",
        "doc_weight",
    )
    if any(arrays[name].size != n for name in per_record):
        fail("a per-record array does not match the record count")
    v = arrays["vocab"].size
    if (
        arrays["weight"].size != v
        or arrays["post_offsets"].size != v + 1
        or arrays["doc_offsets"].size != n + 1
    ):
        fail("offsets do not match")
    if arrays["sound_cps"].size != arrays["sound_ids"].size:
        fail("sound table does not match")
    for offsets, values, bound in (
        (arrays["doc_offsets"], arrays["doc_grams"], v),
        (arrays["post_offsets"], arrays["postings"], n),
    ):
        if offsets[0] != 0 or offsets[-1] != values.size or (np.diff(offsets) < 0).any():
            fail("offsets are not monotone")
        if values.size and (values.min() < 0 or values.max() >= bound):
            fail("an index points outside its table")
    for name in ("vocab", "alphabet", "sound_cps"):
        if (np.diff(arrays[name]) <= 0).any():
            fail(f"{name} is not sorted")
    for name in ("code_order", "clearing_order"):
        if n and (np.sort(arrays[name]) != np.arange(n)).any():
            fail(f"{name} is not a permutation")
    if n and (arrays["bank_of"].min() < -1 or arrays["bank_of"].max() >= len(banks)):
        fail("bank ids out of range")
