"""Put back the spaces that OCR drops between English words.

rapidocr's bundled recognition model was trained mostly on Chinese, where lines have no spaces, so on
English it often reads "Keepoutofreachofchildren" or "Take1 tabletevery 4 to6hours.". `WordSegmenter`
repairs such tokens with a unigram language model (word costs from Zipf's law over a frequency-ranked
word list, the method of the `wordninja` package, whose MIT-licensed English Wikipedia list we read):

- a token that is already a word, a number, a URL, an e-mail address or a path is left alone;
- a run of letters that is not a word is split only when every piece is a common word (short pieces
  must be real short words such as "a", "of", "to"), so names like "Nurofen" stay whole;
- letters and digits are separated ("to6hours" -> "to 6 hours") except for units and ordinals that
  belong to their number ("200mg", "8am", "3rd") and codes such as "MP3" or "B12";
- a number is never split, even with a letter the recogniser read for a digit in it ("2oo", "O7:15",
  "3.4O"): `assistant.vision.numbers` repairs those letters afterwards;
- the other way round, a digit read for a letter inside a word is put right only when that makes a
  known word ("r0om" -> "room"; "B12" and "A4" stay).
"""

from __future__ import annotations

import gzip
import importlib.util
import logging
import math
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from assistant.errors import AssistantError
from assistant.vision.numbers import is_numeric_token

log = logging.getLogger(__name__)

MAX_PIECE_RANK = 60_000
"""A piece of a split must be among this many most frequent words (rarer ones are too often fragments
of names: "ur", "ofen")."""

_MIN_SPLIT_LENGTH = 4  # shorter letter runs are abbreviations or real words we do not know
_MAX_WORD_LENGTH = 24

# Pieces of one or two letters are where wrong splits hide ("nurofen" -> "nur of en"): allow only these.
_SHORT_WORDS = frozenset(
    "a i am an as at be by do go he if in is it me my no of oh ok on or so to up us we".split()
)
# Letters after a number that belong to it: units, times, ordinals, multipliers.
_UNITS = frozenset(
    """am pm mg mcg ug g kg ml l cl dl cm mm m km in ft yd mi oz lb lbs st nd rd th x h hr hrs min
    mins sec secs s ms k kb mb gb tb px pt v w kw kwh mah hz khz mhz ghz mph kmh kph fps dpi bpm iu ppm
    p""".split()
)

# Digits the recogniser reads for letters inside a word.
_DIGIT_LETTERS = {"0": "o", "1": "l", "5": "s"}

_PART = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*|\d+|.", re.DOTALL)
_URL_LIKE = re.compile(r"(://|^www\.|@|/|\\|\.(com|org|net|edu|gov|io|uk|de|fr)\b)", re.IGNORECASE)


class WordListError(AssistantError):
    """The English word list used to repair OCR spacing is not installed."""


class WordSegmenter:
    """Repairs missing spaces in OCR output with a frequency-ranked English word list."""

    def __init__(self, words_by_frequency: Sequence[str]) -> None:
        """`words_by_frequency`: lower-case words, most frequent first."""
        scale = math.log(max(len(words_by_frequency), 2))
        self._rank: dict[str, int] = {}
        for rank, word in enumerate(words_by_frequency):
            self._rank.setdefault(word, rank)
        # Zipf's law: P(word of rank r) ~ 1 / (r log N); cost is the negative log probability.
        self._cost = {word: math.log((rank + 1) * scale) for word, rank in self._rank.items()}

    def is_word(self, text: str) -> bool:
        return text.lower() in self._rank

    def is_common_word(self, text: str) -> bool:
        """Whether `text` may stand as a piece of a split: a common word, or a real short word ("a", "of")."""
        return self._is_confident_piece(text)

    def fix_spacing(self, text: str) -> str:
        """The text with spaces restored inside tokens; line breaks and existing spaces are kept."""
        return "\n".join(
            " ".join(self._fix_token(token) for token in line.split()) for line in text.split("\n")
        )

    def split_run(self, letters: str) -> list[str]:
        """A run of letters as words, or [letters] unchanged when no confident split exists."""
        lowered = letters.lower()
        if len(letters) < _MIN_SPLIT_LENGTH or lowered in self._rank:
            return [letters]
        # Dynamic programming over split points: best[i] is the cheapest split of lowered[:i].
        best: list[tuple[float, int]] = [(0.0, 0)]
        for end in range(1, len(lowered) + 1):
            candidates = [
                (best[start][0] + self._cost[lowered[start:end]], start)
                for start in range(max(0, end - _MAX_WORD_LENGTH), end)
                if best[start][0] < math.inf and lowered[start:end] in self._cost
            ]
            best.append(min(candidates) if candidates else (math.inf, 0))
        if best[-1][0] == math.inf:
            return [letters]
        pieces: list[str] = []
        end = len(lowered)
        while end > 0:
            start = best[end][1]
            pieces.append(letters[start:end])
            end = start
        pieces.reverse()
        if not all(self._is_confident_piece(piece) for piece in pieces):
            return [letters]
        return pieces

    def _is_confident_piece(self, piece: str) -> bool:
        lowered = piece.lower()
        if len(lowered) <= 2:
            return lowered in _SHORT_WORDS
        if "'" in lowered:
            return lowered in self._rank  # contractions sit at the end of the list, below any rank limit
        return self._rank.get(lowered, MAX_PIECE_RANK) < MAX_PIECE_RANK

    def _fix_token(self, token: str) -> str:
        if _URL_LIKE.search(token) or is_numeric_token(token):
            return token
        token = self._letters_for_digits(token)
        parts = _PART.findall(token)
        out: list[str] = []
        previous = ""
        for index, part in enumerate(parts):
            if part[0].isalpha():
                words = self.split_run(part)
                if previous.isdigit() and _is_trailing_zeros(part, parts[index + 1 : index + 2]):
                    out.append(part)  # "Ibuprofen2oo": "2oo" is one number, read as 200 later
                    previous = "0"
                    continue
                if previous.isdigit() and (part.lower() in _UNITS or len(part) == 1):
                    words = [part]  # "200mg", "8am", "5G": the unit stays with its number
                elif previous.isdigit():
                    out.append(" ")
                elif previous and previous in ",;:" and index >= 2 and parts[index - 2][0].isalnum():
                    out.append(" ")  # "tablets,take" -> "tablets, take"
                elif previous == "." and index >= 2 and self._ends_sentence(parts[index - 2], part):
                    out.append(" ")  # "hours.Take" -> "hours. Take"
                out.append(" ".join(words))
                previous = words[-1]
            elif part.isdigit():
                if previous[:1].isalpha() and self._word_before_number(previous):
                    out.append(" ")  # "Take1" -> "Take 1", but "MP3", "B12" stay
                out.append(part)
                previous = part
            else:
                out.append(part)
                previous = part
        return "".join(out)

    def _letters_for_digits(self, token: str) -> str:
        """A word with a digit the recogniser read for a letter ("r0om" -> "room"), when that makes a word."""
        core = token.strip(".,;:!?()\"'")
        if sum(character.isalpha() for character in core) < 2 or not any(c in _DIGIT_LETTERS for c in core):
            return token
        upper = core.isupper()
        letters = "".join(
            (_DIGIT_LETTERS[c].upper() if upper else _DIGIT_LETTERS[c]) if c in _DIGIT_LETTERS else c
            for c in core
        )
        if not letters.isalpha() or len(letters) < _MIN_SPLIT_LENGTH - 1:
            return token
        if not self.is_word(letters):
            pieces = self.split_run(letters)  # "inr0om" -> "in room"
            if len(pieces) == 1:
                return token
            letters = " ".join(pieces)
        return token.replace(core, letters)

    def _word_before_number(self, word: str) -> bool:
        if len(word) < 2 or word.lower() not in self._rank:
            return False
        # Upper-case codes are short ("MP3", "USB3", "A4"); a long capital word is a word ("IBUPROFEN200").
        return not word.isupper() or len(word) >= 4

    def _ends_sentence(self, before: str, after: str) -> bool:
        # "U.S.", "e.g." and file names have short or lower-case parts; a sentence break has a word
        # before the full stop and a capital after it.
        return len(before) >= 2 and before.isalpha() and after[0].isupper() and self.is_word(before)


def _is_trailing_zeros(part: str, following: Sequence[str]) -> bool:
    """Whether letters after a number are the recogniser's o-for-0 ("2oo"), not a word ("2on")."""
    return set(part) <= {"o", "O"} and not (following and following[0][0].isalpha())


def _wordninja_list_path() -> Path:
    spec = importlib.util.find_spec("wordninja")
    if spec is None or spec.origin is None:
        raise WordListError(
            "the English word list for repairing OCR spacing is missing (package `wordninja`). "
            "Install it with `pip install wordninja`."
        )
    path = Path(spec.origin).parent / "wordninja" / "wordninja_words.txt.gz"
    if not path.is_file():
        raise WordListError(f"{path} is missing: the `wordninja` install is incomplete. Reinstall it.")
    return path


@lru_cache(maxsize=1)
def load_word_segmenter() -> WordSegmenter:
    """The segmenter over wordninja's English list (126k words, read once per process, ~0.1 s)."""
    path = _wordninja_list_path()
    with gzip.open(path, "rt", encoding="utf-8") as file:
        words = file.read().split()
    log.debug("vision: read %d words from %s", len(words), path)
    return WordSegmenter(words)
