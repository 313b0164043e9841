# ruff: noqa: RUF002 - the docstring cites legal forms in Greek
"""Answering "what is the clearing code of <bank branch>?" from a table of bank records.

Definitions:

- The *normal form* of a text (:func:`normalise`): NFKC (full-width letters, digits and
  punctuation become half-width), case-folded, traditional characters mapped to simplified
  through a small table (``TRADITIONAL_TO_SIMPLIFIED``), diacritics removed (NFD, combining
  marks U+0300-U+036F dropped: Latin, Greek, Cyrillic; Chinese characters, kana and hangul
  stay as they are; ł, ø, æ … written plainly), cut into words at everything that is not a
  letter or digit, the legal forms dropped (``legal_forms``: ISO 20275 abbreviations and a
  curated list, AG, S.A., a.s., ПАО, Greek Α.Ε. …, as whole words, each where it can stand;
  ``LEGAL_SUFFIXES`` 股份有限公司 … in Chinese), the conjunctions dropped (``CONJUNCTIONS``:
  and, og, und …, as "&" is), and the words written end to end. Record names and questions
  share it.
- A *question* is cut to ``MAX_RAW_CHARS`` characters and brought to its words; a code in
  it of any scheme (``codes``: CNAPS, national codes with or without separators, BICs) that
  a record carries answers it. Otherwise it is stripped of its wrappers: first as words,
  in English, German, French, Spanish, Italian, Dutch, Polish, Czech, Russian, Ukrainian and
  Greek (``wrappers``: what is the BIC of …, BLZ der …, code banque de …, БИК …), then, when
  it holds Chinese characters, the compact ``QUESTION_WRAPPERS`` (请问…, …的联行号是多少). The
  words naming the field asked (BIC / SWIFT, clearing code; by default the bank code) set
  ``Answer.asked``. When the words taken for a wrapper at its end may end a name instead
  (Westpac Palmerston North *Clearing* Centre; Saudi British Bank, *The*), the longest
  reading that a record's normal form begins with is looked up, not sure when the shorter
  reading begins other records' names too. A question with nothing left raises
  :class:`EmptyQuestionError` (a ``ValueError``): nothing to look up is an input error,
  not an answer. Then its aliases
  are expanded (English bank names among them; an alias in letters only as whole words),
  letters left over are read as pinyin and English words and written in the records'
  characters when records are named in Chinese characters (:class:`_Latin`: Beijing Haidian
  Sub-branch -> 北京海淀支行; with records in both scripts, only when the question as
  written is not answered sure and the reading finds a record named in Chinese), context
  above the branch is dropped (a province in front, a parent 分行 inside: :class:`_Context`)
  and it is cut to ``MAX_QUESTION_CHARS``.
- *Aliases* map a short name to a full bank name (工行 -> 中国工商银行, DB -> Deutsche Bank,
  Sberbank -> Сбербанк). They are given at build time (``DEFAULT_ALIASES`` otherwise) and
  stored in the index. An alias in letters is written out only when its bank is named so
  in the records and no record name holds the alias itself (ČSOB in "ČSOB Hypoteční banka":
  then only when it is the whole question); either way it tells which bank is named. An alias that also
  occurs inside the branch part of record names (兴业 in 兴业路支行) is *weak*: it is
  expanded only at the start of a question that names no bank otherwise.
- *Grams* of a normal form (:func:`_grams`): its characters; its pairs of characters one
  or two apart; its characters' sounds (toneless pinyin, as input methods make people
  type 冬 for 东) and pairs of sounds side by side; administrative-level words (市, 区,
  街道 …) left out of the pairs, as people add and drop them freely. A gram's *weight* is
  ``min(ln(1 + N / df), MAX_WEIGHT)`` over the N records; ``w(X)`` sums it over X.

How a question is answered (:meth:`RetrievalIndex.ask`), first hit wins:

1. *code*: the question holds a code that is a record's bank_code, clearing_code or BIC
   (see ``codes``) -> that record (several records carrying it: not sure).
2. *exact*: the question equals one record's normal form (several records sharing it
   make the answer ambiguous: not sure).
3. *ngram*: candidates come from the posting lists of the question's rarest grams only
   (at most ``POSTING_BUDGET`` postings: a question never scans the whole table); the
   best ``RESCORED`` of them are scored on their full gram sets Q (question) and D
   (record) by ``w(Q & D) / (QUESTION_SHARE * w(Q) + (1 - QUESTION_SHARE) * w(D))``, a
   weighted Dice coefficient leaning towards explaining the question, times
   ``BANK_CONFLICT`` when the question names another bank and ``OFFICE_CONFLICT`` when it
   names another kind of office (支行, 分理处 …). Ties go to the shorter name. Records of one
   normal form have their grams indexed once (the first of them stands for all): they are
   one candidate, and a name many records share (a bank's name on each of its codes) keeps
   the weight of a name met once; answers list the others of that normal form after it.

*Confidence* of an n-gram answer is the estimated probability that it is right, a
logistic function of the best score and its margin over the runner-up (``CONFIDENCE_*``,
fitted by ``benchmarks/bench_qa.py --calibrate`` on generated questions of a seed kept
apart from evaluation). Code and exact answers have confidence 1 (1/k when k records share
the name); records named in Chinese characters and records in other scripts have their own
fit (``CONFIDENCE_OTHER_*``, ``bench_qa_registers.py --calibrate``). An n-gram answer whose
normal form k records share is divided by k; records sharing a name (another city) and
scoring within ``DUPLICATE_MARGIN`` of each other cap it at 1/k. When the question names a
bank (by its name or an alias) other than the answer's, or names two banks, or holds the
whole name of a record (not in Chinese characters) that the answer's name does not hold,
it is at most ``BANK_CONFLICT_CONFIDENCE``: a sure answer never names the wrong bank. A
question of up to ``CLOSE_CHARS`` characters (prepared) that does not begin the answer's
name is at most 0.5 sure when another of the best ``CLOSE_RIVALS`` names is as close to it
by optimal string alignment distance (``distance``): look-alike names. An answer is *sure*
when its confidence is at least ``SURE_THRESHOLD``; otherwise ``sure=False`` and callers
show the candidates instead of the best guess.

The index serialises to a zip of ``.npy`` arrays (loaded with ``allow_pickle=False``) and
one JSON member: no pickle anywhere. Pure package: no Django import.

The package: ``normalise`` (normal form, compact wrappers, context, offices),
``legal_forms`` (folding, legal forms, ``legal_forms.json`` from ISO 20275), ``wrappers``
(wrappers in words, the field asked), ``codes`` (code keys, codes in questions),
``aliases``, ``phonetics`` (pinyin and English in questions, the sound table), ``grams``,
``distance`` (edit distance of look-alike names),
``records``, ``answers`` (Answer, Candidate, confidence), ``index`` (RetrievalIndex: build,
ask) and ``storage`` (the zip of .npy arrays and JSON, checked on load).
"""

from __future__ import annotations

from .aliases import DEFAULT_ALIASES
from .answers import (
    CONFIDENCE_A,
    CONFIDENCE_B,
    CONFIDENCE_C,
    CONFIDENCE_OTHER_A,
    CONFIDENCE_OTHER_B,
    CONFIDENCE_OTHER_C,
    SURE_THRESHOLD,
    Answer,
    Candidate,
    EmptyQuestionError,
    MatchedBy,
    confidence,
)
from .grams import CHAR_BITS
from .index import (
    BANK_BONUS,
    BANK_CONFLICT,
    BUILD_CHUNK,
    FORMAT,
    FORMAT_VERSION,
    MAX_ARTIFACT_BYTES,
    MAX_K,
    MAX_QUESTION_CHARS,
    MAX_RECORDS,
    MAX_WEIGHT,
    OFFICE_CONFLICT,
    POSTING_BUDGET,
    QUESTION_SHARE,
    RESCORED,
    UNKNOWN_GRAM_WEIGHT,
    RetrievalIndex,
)
from .normalise import (
    LEGAL_SUFFIXES,
    MAX_RAW_CHARS,
    OFFICES,
    PROVINCES,
    QUESTION_WRAPPERS,
    TRADITIONAL_TO_SIMPLIFIED,
    normalise,
    office,
    strip_wrappers,
)
from .phonetics import ENGLISH_WORDS, sound_table, toneless
from .records import read_records

__all__ = [
    "BANK_BONUS",
    "BANK_CONFLICT",
    "BUILD_CHUNK",
    "CHAR_BITS",
    "CONFIDENCE_A",
    "CONFIDENCE_B",
    "CONFIDENCE_C",
    "CONFIDENCE_OTHER_A",
    "CONFIDENCE_OTHER_B",
    "CONFIDENCE_OTHER_C",
    "DEFAULT_ALIASES",
    "ENGLISH_WORDS",
    "FORMAT",
    "FORMAT_VERSION",
    "LEGAL_SUFFIXES",
    "MAX_ARTIFACT_BYTES",
    "MAX_K",
    "MAX_QUESTION_CHARS",
    "MAX_RAW_CHARS",
    "MAX_RECORDS",
    "MAX_WEIGHT",
    "OFFICES",
    "OFFICE_CONFLICT",
    "POSTING_BUDGET",
    "PROVINCES",
    "QUESTION_SHARE",
    "QUESTION_WRAPPERS",
    "RESCORED",
    "SURE_THRESHOLD",
    "TRADITIONAL_TO_SIMPLIFIED",
    "UNKNOWN_GRAM_WEIGHT",
    "Answer",
    "Candidate",
    "EmptyQuestionError",
    "MatchedBy",
    "RetrievalIndex",
    "confidence",
    "normalise",
    "office",
    "read_records",
    "sound_table",
    "strip_wrappers",
    "toneless",
]
