"""RetrievalIndex: building from records, answering (code, exact, n-gram candidates and
rescoring, confidence) and serialisation (storage: a zip of .npy arrays, no pickle).

Definitions are in the package docstring (apps.qa.retrieval). Pure module: no Django import.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from . import storage
from .aliases import _CJK_CHAR, DEFAULT_ALIASES, SEVERAL_BANKS, _Aliases
from .answers import (
    BANK_CONFLICT_CONFIDENCE,
    SURE_THRESHOLD,
    Answer,
    Asked,
    Candidate,
    EmptyQuestionError,
    MatchedBy,
    confidence,
)
from .codes import LONG_DIGITS, as_typed, bic_key, check_record_codes, code_key, question_codes
from .distance import osa_distances
from .grams import CHAR_BITS, _alphabet, _grams, _sorted_unique
from .normalise import _Context, _edges, name_words, office, strip_name_words, words, wrapper_span
from .phonetics import _LATIN_RUN, _Latin, sound_table
from .records import read_optional, read_records
from .wrappers import asked_field, longer_readings, strip_word_wrappers

FORMAT = storage.FORMAT
FORMAT_VERSION = storage.FORMAT_VERSION
MAX_ARTIFACT_BYTES = storage.MAX_ARTIFACT_BYTES

MAX_QUESTION_CHARS = 200  # and here once normalised and unwrapped
MAX_K = 20  # answers return at most this many records (the guess and the candidates)
MAX_RECORDS = 1 << 22  # record ids and gram keys share one int64 while grams are counted
BUILD_CHUNK = 16_384  # records whose grams are made at once while building

# Ranking. Tuned on generated questions of seed 1 (see benchmarks/bench_qa.py).
POSTING_BUDGET = 4_000  # postings read per question to collect candidates
RESCORED = 64  # candidates scored on their full gram sets
MAX_WEIGHT = 7.0  # cap on a gram's weight: a gram in 1 record in 150,000 weighs as one in 130
QUESTION_SHARE = 0.6  # share of the question's weight in the score's denominator
UNKNOWN_GRAM_WEIGHT = 4.0  # weight of a question gram no record has (a typo, a stray word)
BANK_CONFLICT = 0.55  # score factor when the question names another bank
OFFICE_CONFLICT = 0.8  # score factor when it names another kind of office
BANK_BONUS = 1_000.0  # added while collecting candidates, so the named bank's records come first
DUPLICATE_MARGIN = 0.05  # records of one name scoring this close cannot be told apart
COVERED = 0.97  # share of a question's weight two records explain when neither can be chosen
MAX_NAMED_WORDS = 24  # words of a question searched for record names
CLOSE_CHARS = 32  # questions up to this long (prepared) have their answer checked by edit distance
CLOSE_RIVALS = 4  # against this many of the best candidates (the answer among them)


class _Hints(NamedTuple):
    """What else a question says about its answer: record names it holds (``_named_in``)
    and a cap on the confidence (two readings of it name different records)."""

    named: tuple[str, ...] = ()
    cap: float = 1.0
    words: tuple[str, ...] = ()  # the question's words, legal forms and wrappers gone


_NO_HINTS = _Hints()

_UNKNOWN_DIGITS = re.compile(f"[0-9]{{{LONG_DIGITS},}}")


class _Ranked(NamedTuple):
    """Candidates best first: record ids, scores, and the share of the question's weight
    each explains."""

    ids: np.ndarray
    scores: np.ndarray
    covered: np.ndarray


_NOTHING = _Ranked(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))


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
        self.n_cjk = int(arrays["cjk"].sum())
        # Each code column in its sorted order, so that a lookup compares strings directly
        # (searchsorted through a sorter takes a millisecond on 150,000 records).
        self._sorted_keys = {
            column: arrays[column][arrays[order]]
            for column, order in (
                ("bank_key", "code_order"),
                ("clearing_key", "clearing_order"),
                ("bic_key", "bic_order"),
            )
        }
        # Exact lookup: normal form, and the name alone when a city follows it -> record ids.
        self.exact: dict[str, list[int]] = {}
        self.group: dict[str, int] = {}  # name -> records of that name
        self.same: dict[str, list[int]] = {}  # normal form -> records of that normal form
        # Names of records not in Chinese characters, for telling which bank a question
        # names without an alias table (Chinese names: the alias table and bank categories).
        self.named: set[str] = set()
        cjk = arrays["cjk"].tolist()
        for i, (text, length) in enumerate(zip(normal, arrays["name_len"].tolist(), strict=True)):
            self.exact.setdefault(text, []).append(i)
            self.same.setdefault(text, []).append(i)
            name = text[:length]
            if length < len(text):
                self.exact.setdefault(name, []).append(i)
            self.group[name] = self.group.get(name, 0) + 1
            if not cjk[i]:
                self.named.add(name)
        self._sorted_normal: list[str] | None = None  # made on first use

    def __len__(self) -> int:
        return self.n

    # build -------------------------------------------------------------------------------

    @classmethod
    def build(cls, records: Any, aliases: Mapping[str, str] | None = None) -> RetrievalIndex:
        """Index ``records`` (see :func:`read_records`; optional columns scheme, country,
        city, bic). A CNAPS record (scheme "cnaps" or none) has 12-digit bank_code and
        clearing_code; another a bank_code of its register (clearing_code and bic may be
        empty). Records whose name normalises to nothing are left out. ``aliases`` (short ->
        full bank name) defaults to ``DEFAULT_ALIASES``. Raises ValueError on a malformed
        code or too many records.
        """
        names_in, codes_in, clearing_in = read_records(records)
        extra = read_optional(records, len(names_in))
        bics_in = [b.upper() for b in extra["bic"]]
        check_record_codes(codes_in, clearing_in, bics_in, extra["scheme"])
        keep, names, normal, edges, name_len = [], [], [], [], []
        for i, name in enumerate(names_in):
            parts = name_words(name)
            if not parts:
                continue
            city = "".join(name_words(extra["city"][i]))
            text, where = _edges(parts)
            length = len(text)
            if city and city not in text:
                text, where = _edges([*parts, city])
            keep.append(i)
            names.append(name)
            normal.append(text)
            edges.append(where)
            name_len.append(length)
        if len(keep) > MAX_RECORDS:
            raise ValueError(f"at most {MAX_RECORDS:,} records can be indexed, got {len(keep):,}")
        n = len(names)

        table = DEFAULT_ALIASES if aliases is None else aliases
        banks_only = _Aliases.from_table(table)
        in_names: set[str] = set()
        bank_of = np.array(
            [banks_only.record_bank(t, e, in_names) for t, e in zip(normal, edges, strict=True)],
            dtype=np.int16,
        )
        banks = banks_only.banks
        rests = "\x00".join(
            t[len(banks[b]) :] if b >= 0 and t.startswith(banks[b]) else t
            for t, b in zip(normal, bank_of.tolist(), strict=True)
        )

        alphabet = _alphabet(normal)
        if alphabet.size >= 1 << CHAR_BITS:
            raise ValueError("too many distinct characters in the record names")
        sound_cps, sound_ids = sound_table()
        tables = {"alphabet": alphabet, "sound_cps": sound_cps, "sound_ids": sound_ids}
        # Grams for the first record of each normal form only: records sharing a name are
        # one candidate (told apart afterwards, or not), and a name many records share (a
        # bank's name for each of its codes) keeps the weight of a name met once.
        first_of = {text: i for i, text in reversed(list(enumerate(normal)))}
        firsts = np.array(sorted(first_of.values()), dtype=np.int64)
        # Grams chunk by chunk, so the temporaries of 150,000 names stay small; then only
        # int64 keys and int32 ids, sorted in place.
        keys_parts, doc_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int32)]
        for lo in range(0, firsts.size, BUILD_CHUNK):
            rows = firsts[lo : lo + BUILD_CHUNK]
            chunk_keys, chunk_doc = _grams([normal[i] for i in rows.tolist()], tables)
            keys_parts.append(chunk_keys)
            doc_parts.append(rows[chunk_doc].astype(np.int32))
        keys, doc = np.concatenate(keys_parts), np.concatenate(doc_parts)
        del keys_parts, doc_parts
        vocab = _sorted_unique(np.sort(keys))
        gram = np.searchsorted(vocab, keys).astype(np.int32)
        del keys
        df = np.bincount(gram, minlength=vocab.size)
        weight = np.minimum(np.log1p(firsts.size / np.maximum(df, 1)), MAX_WEIGHT).astype(np.float32)
        by_gram = (gram.astype(np.int64) << np.int64(32)) | doc
        by_gram.sort()  # by gram, then record
        postings = by_gram.astype(np.int32)  # the low 32 bits: the record
        del by_gram

        def text_array(values: list[str]) -> np.ndarray:
            return np.array(values, dtype=f"U{max(1, *map(len, values)) if values else 1}")

        arrays = {
            "bank_code": text_array([codes_in[i] for i in keep]),
            "clearing_code": text_array([clearing_in[i] for i in keep]),
            "bic": text_array([bics_in[i] for i in keep]),
            "bank_key": text_array([code_key(codes_in[i]) for i in keep]),
            "clearing_key": text_array([code_key(clearing_in[i]) for i in keep]),
            "bic_key": text_array([bic_key(bics_in[i]) for i in keep]),
            "bank_of": bank_of,
            "office": np.array([office(t) for t in normal], dtype=np.int8),
            "cjk": np.array([_CJK_CHAR.search(t) is not None for t in normal], dtype=np.int8),
            "name_len": np.array(name_len, dtype=np.int32),
            **tables,
            "vocab": vocab,
            "weight": weight,
            "doc_offsets": np.concatenate(([0], np.cumsum(np.bincount(doc, minlength=n)))).astype(np.int64),
            "doc_grams": gram,
            "doc_weight": np.bincount(doc, weights=weight[gram], minlength=n).astype(np.float32),
            "post_offsets": np.concatenate(([0], np.cumsum(df))).astype(np.int64),
            "postings": postings,
        }
        for key, order in (
            ("bank_key", "code_order"),
            ("clearing_key", "clearing_order"),
            ("bic_key", "bic_order"),
        ):
            arrays[order] = np.argsort(arrays[key], kind="stable").astype(np.int32)
        alias_index = _Aliases.from_table(table, rests, normal, in_names)
        return cls(names, normal, arrays, alias_index, _Context.from_records(rests))

    # ask ---------------------------------------------------------------------------------

    def ask(self, question: str, k: int = 5) -> Answer:
        """Answer ``question`` with the best record and up to ``k - 1`` next candidates.

        ``k`` is clamped to 1..MAX_K. Raises EmptyQuestionError (a ValueError) when the
        question holds nothing to look up, TypeError when it is not a string.
        """
        if not isinstance(question, str):
            raise TypeError("question must be a string")
        k = min(max(1, int(k)), MAX_K)
        said = words(question)
        if not said:
            raise EmptyQuestionError("the question is empty")
        compact, spaced = "".join(said), " ".join(said)
        asked = asked_field(spaced)
        unwrapped = strip_word_wrappers(spaced).split(" ")
        found = self._code(compact, said, unwrapped)
        if found is not None:
            key, rows, field = found
            rest = [w for w in unwrapped if code_key(w) != key and not any(ch.isdigit() for ch in w)]
            bank = self._prepare(rest)[1] if rest else -1
            hints = _Hints(self._named_in(strip_name_words(rest)))
            rows, share = as_typed(rows, lambda i: (self.a["bank_code"][i], self.a["bic"][i]), said)
            candidates = [self._candidate(i, 1.0) for i in rows[1:k]]
            want: Asked = "bank_code" if asked == field else asked
            return self._answer(key, rows[0], 1.0, share, "code", candidates, bank, want, hints)
        unknown = next((m.group() for w in unwrapped for m in _UNKNOWN_DIGITS.finditer(w)), None)
        if unknown is not None:
            # An unknown code: look up the rest of the question, if there is any.
            unwrapped = [x for x in (_UNKNOWN_DIGITS.sub("", w) for w in unwrapped) if x]
            if not unwrapped or not self._prepare(unwrapped, check_only=True)[0]:
                return Answer(unknown, None, None, None, 0.0, 0.0, False, "code", asked=asked)
        text, bank = self._prepare(unwrapped)
        if not text:
            raise EmptyQuestionError("the question names no bank or code")
        cap = 1.0
        if unknown is None:
            longer = self._longer_reading(spaced)
            if longer is not None:
                # A name that ends in words read as a wrapper ("... Clearing Centre").
                short = self._begin(text)
                if short[1] > short[0] and short != self._begin(longer[1]):
                    cap = 0.5  # without them, it begins other records' names too: either is meant
                unwrapped, text, bank, asked = longer[0].split(" "), longer[1], longer[2], longer[3]
        kept = strip_name_words(unwrapped)[:MAX_NAMED_WORDS]
        hints = _Hints(self._named_in(kept), cap, tuple(kept))
        if _LATIN_RUN.search(text) and self.n_cjk:
            if _CJK_CHAR.search(text) or self.n_cjk == self.n:
                return self._lookup(self._context(self.latin(text), bank), bank, k, asked, hints)
            # Records in both scripts, a question in letters: as written first, then read as pinyin.
            plain = self._lookup(self._context(text, bank), bank, k, asked, hints)
            if plain.sure:
                return plain
            read = self._lookup(self._context(self.latin(text), bank), bank, k, asked, hints)
            # Pinyin is written in Chinese characters: it can only find a record named so.
            chinese = read.bank_name is not None and _CJK_CHAR.search(read.bank_name)
            return read if chinese and read.confidence > plain.confidence else plain
        return self._lookup(self._context(text, bank), bank, k, asked, hints)

    def _longer_reading(self, spaced: str) -> tuple[str, str, int, Asked] | None:
        """(words, prepared text, bank, field asked) of the longest reading of the question
        with fewer last words taken for a wrapper (``wrappers.longer_readings``) that is a
        record's normal form or begins one; None when there is none."""
        readings = longer_readings(spaced)
        if not readings:
            return None
        for reading, rest in readings:
            text, bank = self._prepare(reading.split(" "))
            if text and not _CJK_CHAR.search(text) and self._begin(text)[1] > self._begin(text)[0]:
                return reading, text, bank, asked_field(rest)
        return None

    def _begin(self, text: str) -> tuple[int, int]:
        """Where the distinct normal forms that begin with ``text`` are, in sorted order."""
        if self._sorted_normal is None:
            self._sorted_normal = sorted(self.same)
        names = self._sorted_normal
        return bisect.bisect_left(names, text), bisect.bisect_left(names, text + "\U0010ffff")

    def _named_in(self, kept: list[str]) -> tuple[str, ...]:
        """Record names (not in Chinese characters) that ``kept`` (a question's words without
        legal forms) holds as whole words, those inside a longer one left out: the banks
        the question names."""
        if not self.named or not kept:
            return ()
        kept = kept[:MAX_NAMED_WORDS]
        found = {
            name
            for i in range(len(kept))
            for j in range(i + 1, len(kept) + 1)
            if (name := "".join(kept[i:j])) in self.named
        }
        return tuple(n for n in found if not any(n != m and n in m for m in found))

    def _prepare(self, said: list[str], check_only: bool = False) -> tuple[str, int]:
        """The question's words without legal forms and wrappers, aliases expanded, end to
        end; and the bank it names (-1: none)."""
        text, edges = _edges(strip_name_words(said))
        start, end = wrapper_span(text)
        if _CJK_CHAR.search(text):
            text = text[start:end]
            edges = frozenset({0, len(text), *(e - start for e in edges if start < e < end)})
        elif start >= end:
            text = ""  # wrappers only (in letters, compact wrappers count only so: "code?")
        if check_only or not text:
            return text, -1
        return self.aliases.expand(text, edges)

    def _context(self, text: str, bank: int) -> str:
        banks = self.aliases.banks
        start = len(banks[bank]) if bank >= 0 and text.startswith(banks[bank]) else 0
        return self.context.drop(text, start)[:MAX_QUESTION_CHARS]

    def _lookup(self, text: str, bank: int, k: int, asked: Asked, hints: _Hints = _NO_HINTS) -> Answer:
        ranked = self._rank(text, bank)
        exact = self.exact.get(text)
        if exact:
            others = [(i, s) for i, s in self._expand(ranked, len(exact) + k) if i not in exact][: k - 1]
            candidates = [self._candidate(i, 1.0) for i in exact[1:k]]
            candidates += [self._candidate(i, s) for i, s in others]
            conf = 1.0 / len(exact)
            return self._answer(text, exact[0], 1.0, conf, "exact", candidates[: k - 1], bank, asked, hints)
        if ranked.ids.size == 0:
            return Answer(text, None, None, None, 0.0, 0.0, False, "none", asked=asked)
        best, top = float(ranked.scores[0]), int(ranked.ids[0])
        margin = best - float(ranked.scores[1]) if ranked.ids.size > 1 else best
        # Records of one normal form are one candidate: k of them, nothing tells them apart.
        conf = confidence(best, margin, cjk=bool(self.a["cjk"][top])) / len(self.same[self.normal[top]])
        name = self._name(top)
        if self.group[name] > 1:
            # Records sharing the name (another city), scored as close: nothing tells them apart.
            alike = sum(
                1
                for i, s in zip(ranked.ids[1:].tolist(), ranked.scores[1:].tolist(), strict=True)
                if best - s <= DUPLICATE_MARGIN and self._name(i) == name
            )
            conf = min(conf, 1.0 / (1 + alike)) if alike else conf
        if not self.a["cjk"][top] and ranked.ids.size > 1 and min(ranked.covered[:2]) >= COVERED:
            # The whole question is in two names (Investment Funds: in "Sarasin Investment
            # Funds" and "Investment Funds Direct"): only their lengths would choose, unless
            # one of them holds every word of the question as a word and the other not, or
            # the other holds the first's whole name and more words (Eurasian Bank in Eurasian
            # Development Bank): the question, all in the first, names nothing of the more.
            said = set(hints.words)
            first, second = (name_words(self.names[int(i)]) for i in ranked.ids[:2])
            nested = len(first) < len(second) and f" {' '.join(first)} " in f" {' '.join(second)} "
            if not (nested or (said <= set(first) and not said <= set(second))):
                conf = min(conf, 0.5)
        short = len(text) <= CLOSE_CHARS and not self.normal[top].startswith(text)
        if conf >= SURE_THRESHOLD and not self.a["cjk"][top] and short:
            # Another of the best names as close to the question by edit distance: the
            # n-gram score, blind to order, chose between look-alikes (ArpaPay: Papaya or
            # ArcaPay). Not for the start of a name (BNP for BNP Paribas): words left out.
            rows = ranked.ids[:CLOSE_RIVALS].tolist()
            distances = osa_distances(text, [self.normal[i] for i in rows])
            if distances.size > 1 and distances[1:].min() <= distances[0]:
                conf = min(conf, 0.5)
        candidates = [self._candidate(i, s) for i, s in self._expand(ranked, k + 1)[1:k]]
        return self._answer(text, top, best, conf, "ngram", candidates, bank, asked, hints)

    def _expand(self, ranked: _Ranked, limit: int) -> list[tuple[int, float]]:
        """(record, score) best first, each candidate followed by the records of its normal
        form; at most ``limit``."""
        out: list[tuple[int, float]] = []
        for i, score in zip(ranked.ids.tolist(), ranked.scores.tolist(), strict=True):
            out += [(j, score) for j in self.same[self.normal[i]]]
            if len(out) >= limit:
                break
        return out[:limit]

    def _name(self, i: int) -> str:
        return self.normal[i][: int(self.a["name_len"][i])]

    def _code(
        self, compact: str, said: list[str], unwrapped: list[str]
    ) -> tuple[str, list[int], Asked] | None:
        """(key, records, field) of the first code in the question that a record carries.

        A short run of digits (under ``LONG_DIGITS``) is a code only when the question holds
        nothing else but wrappers: the 103 of "MBH 103 Herend" is part of a name."""
        only_digits = all(w.isdigit() for w in unwrapped)
        for key, kind in question_codes(compact, said, unwrapped):
            if kind == "digits" and len(key) < LONG_DIGITS and not only_digits:
                continue
            for column, order, field in (
                ("bank_key", "code_order", "bank_code"),
                ("clearing_key", "clearing_order", "clearing_code"),
                ("bic_key", "bic_order", "bic"),
            ):
                if kind == "bic" and field != "bic":
                    continue
                rows = self._by_key(key, column, order)
                if rows:
                    return key, rows, field
        return None

    @property
    def latin(self) -> _Latin:
        """The reader of pinyin and English in questions (made on first use, or by warm);
        only asked for when some records are named in Chinese characters."""
        self.warm()
        assert self._latin is not None
        return self._latin

    def warm(self) -> None:
        """Make now what the first question in pinyin would otherwise wait for (~0.1 s)."""
        if self._latin is None and self.n_cjk:
            self._latin = _Latin(self.a["alphabet"], self.normal)

    def _answer(
        self,
        text: str,
        i: int,
        score: float,
        conf: float,
        how: MatchedBy,
        candidates: list[Candidate],
        bank: int = -1,
        asked: Asked = "bank_code",
        hints: _Hints = _NO_HINTS,
    ) -> Answer:
        best = self._candidate(i, score)
        if bank == SEVERAL_BANKS or (bank >= 0 and int(self.a["bank_of"][i]) != bank):
            conf = min(conf, BANK_CONFLICT_CONFIDENCE)  # the question names another bank
        own = self._name(i)
        if any(name not in own for name in hints.named):
            # The question holds the whole name of a record that this answer's name does not
            # hold: it names another bank (Banca Popolare di Crotone, answered Cortona).
            conf = min(conf, BANK_CONFLICT_CONFIDENCE)
        conf = min(conf, hints.cap)
        if (asked == "bic" and not best.bic) or (asked == "clearing_code" and not best.clearing_code):
            asked = "bank_code"
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
            best.bic,
            asked,
        )

    def _candidate(self, i: int, score: float) -> Candidate:
        a = self.a
        return Candidate(
            self.names[i],
            str(a["bank_code"][i]),
            str(a["clearing_code"][i]),
            round(float(score), 4),
            str(a["bic"][i]),
        )

    def _by_key(self, key: str, column: str, order: str) -> list[int]:
        """Records whose ``column`` is ``key``, in record order."""
        values, by = self._sorted_keys[column], self.a[order]
        if not key or len(key) > values.dtype.itemsize // 4:
            return []  # longer than every key (and a longer needle would copy the column)
        needle = np.array(key, dtype=values.dtype)
        lo = int(np.searchsorted(values, needle, side="left"))
        hi = int(np.searchsorted(values, needle, side="right"))
        return sorted(by[lo:hi].tolist()) if hi > lo else []

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
        return _Ranked(cand[best], score[best], (overlap / w_q)[best])

    # serialisation -----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The index as a zip of ``.npy`` arrays plus ``meta.json`` (no pickle)."""
        meta = {
            "records": self.n,
            "names": self.names,
            "normal": self.normal,
            "aliases": self.aliases.aliases,
            "banks": self.aliases.banks,
            "weak": sorted(self.aliases.weak),
            "kept": sorted(self.aliases.kept),
            "whole": sorted(self.aliases.whole),
            "provinces": self.context.provinces,
        }
        return storage.to_bytes(meta, self.a)

    @classmethod
    def from_bytes(cls, data: bytes) -> RetrievalIndex:
        """Load what :meth:`to_bytes` wrote. Raises ValueError on anything else."""
        meta, arrays = storage.from_bytes(data)
        aliases = _Aliases(meta["aliases"], meta["banks"], meta["weak"], meta["kept"], meta["whole"])
        return cls(meta["names"], meta["normal"], arrays, aliases, _Context(meta["provinces"]))
