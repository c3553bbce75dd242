"""The features of a ticket's text: character n-grams for Chinese, words and word pairs otherwise.

Chinese has no spaces and Kefu ships no word list, so runs of CJK characters become overlapping
character 1-, 2- and 3-grams ("显示屏黑屏" → 显, 显示, 显示屏, 示屏, 屏黑, 黑屏, …): the words are
among them and the model learns which matter. Latin letters and digits become words and word
pairs; codes keep their case ("E23", "LP-3300") and plain words are lower-cased. Pure Python, so
the web processes may import it; the hashing happens in ``kefu.triage.engine``.
"""

from __future__ import annotations

import re
import unicodedata

# Subject plus the start of the first message; the rest rarely changes where a ticket belongs.
MAX_CHARS = 3000

_TOKEN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[0-9a-z]+(?:[-_.][0-9a-z]+)*", re.IGNORECASE
)


def ticket_text(subject: str, body: str) -> str:
    return f"{subject}\n{body or ''}"[:MAX_CHARS]


def analyze(text: str) -> list[str]:
    """The n-grams of ``text`` (with repeats: the counts are the term frequencies)."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    grams: list[str] = []
    previous = ""
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[0] >= "\u3400":
            n = len(token)
            grams.extend(token)
            grams.extend([token[i : i + 2] for i in range(n - 1)])
            grams.extend([token[i : i + 3] for i in range(n - 2)])
            previous = ""
            continue
        word = token.upper() if any(c.isdigit() for c in token) else token.lower()
        grams.append(word)
        if previous:
            grams.append(f"{previous} {word}")
        previous = word
    return grams


def readable_top(candidates: list[str], limit: int = 3) -> list[str]:
    """The first ``limit`` features of a ranked list, without overlapping n-grams.

    "显示" and "示屏" add little next to "显示屏": a candidate inside a chosen one is skipped, and
    one that contains chosen ones replaces them.
    """
    # Single characters ("屏", "i") explain little; they only fill up when nothing else is left.
    longer = [gram for gram in candidates if len(gram) > 1]
    chosen = _without_overlaps(longer, limit)
    if len(chosen) < limit:
        singles = [gram for gram in candidates if len(gram) == 1]
        chosen += _without_overlaps(singles, limit - len(chosen), chosen)
    return chosen


def _without_overlaps(
    candidates: list[str], limit: int, taken: list[str] | None = None
) -> list[str]:
    chosen: list[str] = []
    taken = taken or []
    for gram in candidates:
        if any(gram in kept for kept in taken):
            continue
        if any(gram in kept for kept in chosen):
            continue
        inside = [kept for kept in chosen if kept in gram]
        if inside:
            position = chosen.index(inside[0])
            chosen = [kept for kept in chosen if kept not in inside]
            chosen.insert(min(position, len(chosen)), gram)
        else:
            chosen.append(gram)
        if len(chosen) >= limit:
            break
    return chosen
