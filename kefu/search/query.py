"""The search box's language, parsed into phrases, exclusions, field filters and jumps.

    printer E23               both words (any order, anywhere in the ticket)
    显示屏 黑屏                 each Chinese word as a phrase of its character pairs
    "paper jam"               the exact phrase
    -refund  -"wrong address" leave out tickets with this word or phrase
    state:open priority:urgent customer:acme group:售后 assignee:me
    #12345                    go straight to ticket 12345

Field filters are returned as raw ``(field, value)`` pairs: the app that owns the searched objects
(tickets) decides what they mean, since this app sits below it and knows no tickets.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from kefu.lib.text import clean_line
from kefu.search.tokens import query_phrase

FILTER_FIELDS = ("state", "priority", "customer", "group", "assignee")
MAX_QUERY_LENGTH = 500
MAX_PHRASES = 32

# A clause: optional "-", optional "field:", then a "quoted phrase" or a bare word.
_CLAUSE_RE = re.compile(r'(?P<neg>-)?(?:(?P<field>[a-z]+):)?(?:"(?P<quoted>[^"]*)"?|(?P<bare>\S+))')
_NUMBER_RE = re.compile(r"#(\d{1,18})")
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u300c": '"', "\u300d": '"'})


class QueryError(ValueError):
    """The query cannot be run; the message says why, for the person who typed it."""


@dataclass
class ParsedQuery:
    include: list[tuple[str, ...]] = field(default_factory=list)
    exclude: list[tuple[str, ...]] = field(default_factory=list)
    filters: list[tuple[str, str]] = field(default_factory=list)
    ticket_number: int | None = None
    # The positive words and phrases as typed (normalised), for highlighting matches.
    highlight: list[str] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        return bool(self.include or self.exclude)

    @property
    def is_empty(self) -> bool:
        return not (self.has_text or self.filters or self.ticket_number)


def parse(raw: str) -> ParsedQuery:
    """Parse a search box entry; raises ``QueryError`` for one that cannot be run. Control
    characters and lone surrogates (``kefu.lib.text``) are dropped, whoever the caller is."""
    text = unicodedata.normalize("NFKC", clean_line(raw or "")).translate(_QUOTES).strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(
            _("The search is too long: at most %(n)s characters.") % {"n": MAX_QUERY_LENGTH}
        )
    parsed = ParsedQuery()
    number = _NUMBER_RE.fullmatch(text)
    if number:
        parsed.ticket_number = int(number.group(1))
        return parsed
    for match in _CLAUSE_RE.finditer(text):
        value = match.group("quoted") if match.group("quoted") is not None else match.group("bare")
        name = (match.group("field") or "").lower()
        negative = bool(match.group("neg"))
        if not name and value.endswith(":") and value[:-1].lower() in FILTER_FIELDS:
            name, value = value[:-1].lower(), ""  # "state:" with nothing after it
        if name in FILTER_FIELDS:
            if not value.strip():
                raise QueryError(
                    _("Give a value after %(field)s:, e.g. %(example)s")
                    % {"field": name, "example": f"{name}:…"}
                )
            if negative:
                raise QueryError(
                    _("Filters such as %(field)s: cannot be negated.") % {"field": name}
                )
            parsed.filters.append((name, value.strip()))
            continue
        if name:
            value = f"{name}:{value}"  # not a filter ("10:30", "error:42"): plain text
        terms = tuple(query_phrase(value))
        if not terms:
            continue
        (parsed.exclude if negative else parsed.include).append(terms)
        if not negative:
            parsed.highlight.append(value)
    if len(parsed.include) + len(parsed.exclude) > MAX_PHRASES:
        raise QueryError(_("Use at most %(n)s words or phrases.") % {"n": MAX_PHRASES})
    return parsed
