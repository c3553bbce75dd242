"""Turning text into index terms, the same way for documents and for queries.

The database never tokenises: Python writes space-separated terms into a column, and SQLite FTS5
(``ascii`` tokenizer) and PostgreSQL (``simple`` configuration) only split that column on spaces.
Every term is therefore made only of lower-case ASCII letters and digits or of non-ASCII letters,
so both engines see exactly the terms written here.

- Text is NFKC-normalised (full-width ``Ｅ２３`` is ``e23``), case-folded and accent-folded
  (``café`` is ``cafe``); apostrophes vanish (``printer's`` is ``printers``).
- Latin words become their Porter stem (``printers`` → ``printer``); words with digits (``e23``,
  ``win10``) and numbers are kept as they are.
- Compounds — e-mail addresses, host names, serial numbers, phone numbers, ``well-known`` — are
  indexed as their parts in order (``alice``, ``acme``, ``example``), so a part or a run of parts
  (``acme.example``) finds them; one with digits is also indexed whole without separators
  (``SN-2024-00123`` → ``sn202400123``, ``138-0013-8000`` → ``13800138000``).
- CJK text (Han, kana, Hangul) becomes overlapping character bigrams (``显示屏`` → ``显示 示屏``)
  plus each single character, the classic dictionary-free approach: no segmenter, no memory.

Terms whose position matters (words, parts, bigrams) come in text order so phrases can be matched;
the extra terms (single characters of longer CJK runs, whole compounds) follow at the end, once
each, so they neither break phrases nor use up positions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from kefu.search.stemming import stem

# Han (with extensions and compatibility ideographs), hiragana, katakana, Hangul syllables.
CJK_RANGES = (
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f"
)
_WORD_CHAR = rf"[^\W_{CJK_RANGES}]"
CHUNK_RE = re.compile(
    # A phone-like run of digit groups: "+86 138 0013 8000", "(021) 5555-1234".
    r"(?P<phone>\+?\(?\d{1,4}\)?(?:[ \-.]{1,2}\(?\d{2,}\)?)+)(?![\w@])"
    rf"|(?P<cjk>[{CJK_RANGES}]+)"
    # A word, or words joined by . @ - _ / (addresses, host names, serials, "well-known").
    rf"|(?P<word>{_WORD_CHAR}+(?:[.@\-_/]{_WORD_CHAR}+)*)"
)
_PART_RE = re.compile(rf"{_WORD_CHAR}+")
_DIGIT_RE = re.compile(r"\d")
# Combining accents after a Latin, Greek or Cyrillic letter; other scripts' marks are letters' parts.
_LATIN_ACCENTS_RE = re.compile(r"(?<=[\u0000-\u052f\u1e00-\u1eff])[\u0300-\u036f]+")
MIN_PHONE_DIGITS = 7
MAX_PHONE_DIGITS = 15  # E.164
MAX_TERM_LENGTH = 64  # longer runs are base64 or hashes, not something anyone types


def normalise(text: str) -> str:
    """NFKC, case-folded, accents removed from Latin/Greek/Cyrillic letters, no apostrophes."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("'", "").replace("\u2019", "")
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    if len(decomposed) == len(text):
        return text  # nothing decomposed, so no accents (most Chinese text)
    return unicodedata.normalize("NFC", _LATIN_ACCENTS_RE.sub("", decomposed))


def word_term(word: str) -> str:
    """The term of one word or number: stemmed when it is plain ASCII letters."""
    if word.isascii() and word.isalpha():
        return stem(word)
    return word


@dataclass(frozen=True)
class Chunk:
    """One unit of text: ``kind`` is ``phone``, ``cjk`` or ``word``; ``text`` is normalised."""

    kind: str
    text: str
    start: int
    end: int


def chunks(text: str, *, normalised: bool = False) -> Iterator[Chunk]:
    """The chunks of ``text``, with offsets into ``text`` itself (used for highlighting).

    With ``normalised=False`` the pattern runs on the original text and each chunk is normalised
    on its own, so offsets stay true to what the user sees.
    """
    for match in CHUNK_RE.finditer(text):
        kind = match.lastgroup or "word"
        raw = match.group()
        yield Chunk(kind, raw if normalised else normalise(raw), match.start(), match.end())


@dataclass
class Terms:
    """Index terms of a text: ``ordered`` (positions matter) and ``extra`` (presence only)."""

    ordered: list[str]
    extra: dict[str, None]  # an ordered set

    def joined(self) -> str:
        return " ".join([*self.ordered, *self.extra])


def _add_compound(parts: list[str], whole: str, terms: Terms) -> None:
    terms.ordered.extend(parts)
    if len(parts) > 1 and _DIGIT_RE.search(whole):
        joined = "".join(parts)
        # Not for decimals and short dates ("1.5" is not the number 15).
        if len(joined) <= MAX_TERM_LENGTH and not (joined.isdigit() and len(joined) < 5):
            terms.extra[joined] = None


def chunk_terms(chunk: Chunk, terms: Terms) -> None:
    """Append the terms of one normalised chunk to ``terms``."""
    text = chunk.text
    if chunk.kind == "cjk":
        if len(text) == 1:
            terms.ordered.append(text)
            return
        terms.ordered.extend(text[i : i + 2] for i in range(len(text) - 1))
        for char in text:
            terms.extra[char] = None
        return
    parts = [p for p in _PART_RE.findall(text) if len(p) <= MAX_TERM_LENGTH]
    if chunk.kind == "phone":
        digits = "".join(parts)
        if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
            terms.ordered.extend(parts)  # numbers next to each other ("10 20"), or several phones
            return
        _add_compound(parts, text, terms)
        if digits.startswith("86") and len(digits) == 13 and text.lstrip("(").startswith("+"):
            terms.extra[digits[2:]] = None  # a Chinese mobile number, also without +86
        return
    _add_compound([word_term(p) for p in parts], text, terms)


def tokenise(text: str) -> Terms:
    terms = Terms(ordered=[], extra={})
    for chunk in chunks(normalise(text), normalised=True):
        chunk_terms(chunk, terms)
    return terms


def index_text(*texts: str, max_length: int = 300_000) -> str:
    """The space-separated terms of ``texts`` for one indexed column.

    Capped at ``max_length`` characters (cut at a term boundary): PostgreSQL refuses a tsvector
    over 1 MB, and nothing a person writes into one ticket comes close.
    """
    terms = Terms(ordered=[], extra={})
    for text in texts:
        if text:
            for chunk in chunks(normalise(text), normalised=True):
                chunk_terms(chunk, terms)
    joined = terms.joined()
    if len(joined) > max_length:
        joined = joined[:max_length].rsplit(" ", 1)[0]
    return joined


def query_phrase(text: str) -> list[str]:
    """The terms a query word or quoted phrase must match in order (extras are left out:
    ``显示屏`` is the phrase ``显示 示屏``; a single character matches its single-character term)."""
    return tokenise(text).ordered
