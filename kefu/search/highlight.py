"""Marking what a search matched: ``<mark>`` around the words, in HTML-escaped text.

Every piece of text is escaped first and only our own ``<mark>`` tags are added, so a message
containing ``<script>`` is shown as text, never run.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from kefu.search.tokens import Terms, chunk_terms, chunks, normalise

SNIPPET_LENGTH = 160
SNIPPET_LEAD = 50  # characters shown before the first match


class Highlighter:
    """Finds the spans of a text that match the positive words of a query."""

    def __init__(self, words: Iterable[str]):
        self.terms: set[str] = set()
        self.cjk: set[str] = set()
        for word in words:
            for chunk in chunks(normalise(word), normalised=True):
                if chunk.kind == "cjk":
                    self.cjk.add(chunk.text)
                else:
                    self.terms.update(_terms_of(chunk).ordered)

    def __bool__(self) -> bool:
        return bool(self.terms or self.cjk)

    def spans(self, text: str) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        for chunk in chunks(text):
            if chunk.kind == "cjk":
                # CJK characters keep their length under NFKC, so offsets carry over.
                if len(chunk.text) != chunk.end - chunk.start:
                    continue
                for run in self.cjk:
                    at = chunk.text.find(run)
                    while at >= 0:
                        found.append((chunk.start + at, chunk.start + at + len(run)))
                        at = chunk.text.find(run, at + 1)
            elif self.terms:
                terms = _terms_of(chunk)
                if self.terms.intersection(terms.ordered) or self.terms.intersection(terms.extra):
                    found.append((chunk.start, chunk.end))
        return _merged(found)

    def highlight(self, text: str) -> SafeString:
        """All of ``text``, escaped, with every match marked."""
        return _render(text, self.spans(text), 0, len(text))

    def snippet(self, text: str, length: int = SNIPPET_LENGTH) -> SafeString | None:
        """About ``length`` characters of ``text`` around its first match; ``None`` if none."""
        spans = self.spans(text)
        if not spans:
            return None
        start = max(0, spans[0][0] - SNIPPET_LEAD)
        end = min(len(text), start + length)
        return _render(text, spans, start, end)


def _terms_of(chunk) -> Terms:
    terms = Terms(ordered=[], extra={})
    chunk_terms(chunk, terms)
    return terms


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _render(text: str, spans: list[tuple[int, int]], start: int, end: int) -> SafeString:
    pieces = ["…"] if start > 0 else []
    position = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end:
            continue
        pieces.append(escape(text[position:span_start]))
        pieces.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        position = span_end
    pieces.append(escape(text[position:end]))
    if end < len(text):
        pieces.append("…")
    return mark_safe("".join(pieces))  # noqa: S308 - every piece of text is escaped above
