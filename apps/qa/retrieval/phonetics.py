"""Reading sounds: questions in pinyin and English written in the records' characters
(_Latin), toneless pinyin (toneless) and the characters' sound table (sound_table).

Definitions are in the package docstring (apps.qa.retrieval). Pure module: no Django import.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata

import numpy as np

from .grams import CHAR_BITS, _codepoints, _lookup

# --- questions in pinyin and English -------------------------------------------------------

_LATIN_RUN = re.compile("[a-z]+")
# English words of branch names, as bank pages write them; "" drops a word.
ENGLISH_WORDS: dict[str, str] = {
    "subbranch": "支行",
    "branch": "",  # "Haidian branch" is a 支行, "Beijing branch" a 分行: the rest tells
    "businessdepartment": "营业部",
    "operationsdepartment": "营业部",
    "operationdepartment": "营业部",
    "savingsoffice": "储蓄所",
    "savingoffice": "储蓄所",
    "office": "",
    "city": "市",
    "district": "区",
    "county": "县",
    "province": "省",
    "road": "路",
    "street": "街",
    "avenue": "大道",
    "town": "镇",
    **dict.fromkeys(
        ("bank", "of", "the", "china", "co", "ltd", "limited", "company", "corp", "corporation", "in", "at"),
        "",
    ),
}
_SKIP_COST = 3  # a letter that is neither pinyin nor an English word costs as much as three words


class _Latin:
    """Latin letters left in a prepared question read as pinyin and English words, and
    written in the records' characters: beijinghaidiansubbranch -> 北京海淀支行.

    A run of letters is cut into the fewest pinyin syllables (those the records'
    characters are read as, any reading) and ``ENGLISH_WORDS``. Each syllable becomes the
    character read so that, next to its neighbours, makes the pairs most records hold
    (海淀, not 海店), so that characters, pairs and sounds all match as for a question typed
    in Chinese. Built on the first such question: it needs pypinyin, as building does.
    """

    def __init__(self, alphabet: np.ndarray, normal: list[str]) -> None:
        from pypinyin.pinyin_dict import pinyin_dict

        # Characters and side-by-side pairs counted over the records' names (the index's
        # pairs also join characters two apart: 银行杭州 would vote for 行州).
        cps, doc = _codepoints(normal)
        ids = _lookup(alphabet, cps)
        self.counts = np.bincount(ids, minlength=alphabet.size + 1)
        inside = (doc[:-1] == doc[1:]) & (ids[:-1] > 0) & (ids[1:] > 0)
        self.pairs, self.pair_counts = np.unique(
            (ids[:-1][inside] << np.int64(CHAR_BITS)) | ids[1:][inside], return_counts=True
        )
        self.log_n = math.log1p(len(normal))
        by_sound: dict[str, list[int]] = {}
        for char_id, cp in enumerate(alphabet.tolist(), start=1):
            for reading in set(pinyin_dict.get(cp, "").split(",")) - {""}:
                by_sound.setdefault(toneless(reading), []).append(char_id)
        self.chars: dict[str, np.ndarray] = {}  # syllable -> character ids, most frequent first
        for sound, found in by_sound.items():
            ranked = np.asarray(found, dtype=np.int64)
            self.chars[sound] = ranked[np.argsort(-self.counts[ranked], kind="stable")][:12]
        self.alphabet = alphabet
        self.tokens = {*self.chars, *ENGLISH_WORDS}
        self.longest = max(map(len, self.tokens), default=1)

    def __call__(self, text: str) -> str:
        return _LATIN_RUN.sub(lambda m: self._run(m.group()), text)

    def _run(self, run: str) -> str:
        """The run as characters; letters that read as nothing are kept as they are."""
        n = len(run)
        # best[end] = (cost, start, token): the cheapest reading of run[:end], its last token.
        best: list[tuple[int, int, str]] = [(0, 0, "")] * (n + 1)
        for end in range(1, n + 1):
            best[end] = (best[end - 1][0] + _SKIP_COST, end - 1, "")  # a stray letter
            # Shortest last token first, so that ties go to longer early ones: jiangan is
            # jiang'an (江岸), as people type it without the apostrophe.
            for start in range(end - 1, max(0, end - self.longest) - 1, -1):
                token = run[start:end]
                if token in self.tokens and best[start][0] + 1 < best[end][0]:
                    best[end] = (best[start][0] + 1, start, token)
        pieces: list[tuple[str, str]] = []  # (token or "", the letters)
        end = n
        while end > 0:
            _, start, token = best[end]
            pieces.append((token, run[start:end]))
            end = start
        out: list[str] = []
        syllables: list[str] = []
        for token, letters in [*reversed(pieces), ("", "")]:
            if token in self.chars:
                syllables.append(token)
                continue
            out.append(self._characters(syllables))
            syllables = []
            out.append(ENGLISH_WORDS[token] if token else letters)
        return "".join(out)

    def _characters(self, syllables: list[str]) -> str:
        """The likeliest characters for a row of syllables: the best path through pair counts."""
        if not syllables:
            return ""
        options = [self.chars[s] for s in syllables]
        score = np.log1p(self.counts[options[0]]) * 0.1
        back: list[np.ndarray] = []
        for prev, cur in itertools.pairwise(options):
            keys = (prev[:, None] << np.int64(CHAR_BITS)) | cur[None, :]
            together = _lookup(self.pairs, keys.ravel(), self.pair_counts).reshape(keys.shape)
            alone = np.log1p(self.counts[prev])[:, None], np.log1p(self.counts[cur])[None, :]
            # A pair seen in records: its count against its characters' (海淀 over 海店);
            # none seen: the more frequent character, by a little.
            seen = self.log_n + np.log1p(together) - 0.5 * (alone[0] + alone[1])
            gain = np.where(together > 0, seen, 0.1 * alone[1])
            total = score[:, None] + gain
            back.append(np.argmax(total, axis=0))
            score = total.max(axis=0)
        pick = [int(np.argmax(score))]
        for step in reversed(back):
            pick.append(int(step[pick[-1]]))
        pick.reverse()
        return "".join(chr(int(self.alphabet[options[i][j] - 1])) for i, j in enumerate(pick))


def sound_table() -> tuple[np.ndarray, np.ndarray]:
    """(code points, syllable ids): each CJK character's first reading without its tone.

    Ids count from 1 in the order of the sorted syllables. Only building an index needs
    pypinyin; the index stores the table.
    """
    from pypinyin.pinyin_dict import pinyin_dict

    first = {cp: toneless(readings.split(",")[0]) for cp, readings in pinyin_dict.items()}
    syllables = {s: i for i, s in enumerate(sorted(set(first.values())), start=1)}
    cps = np.array(sorted(first), dtype=np.int64)
    return cps, np.array([syllables[first[cp]] for cp in cps.tolist()], dtype=np.int16)


def toneless(syllable: str) -> str:
    """A pinyin syllable without its tone marks (ü written v)."""
    plain = unicodedata.normalize("NFD", syllable.replace("ü", "v"))
    return "".join(ch for ch in plain if not unicodedata.combining(ch))
