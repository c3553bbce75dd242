"""Text from outside made storable: the one rule for NUL, control characters and lone surrogates.

PostgreSQL refuses U+0000 in text, neither database can encode a lone surrogate (U+D800–U+DFFF
on its own, as ``json.loads('"\\ud800"')`` or a ``surrogateescape`` decode produce) as UTF-8, and
XML (Excel exports, feeds) refuses the other C0 control characters. None of them means anything in
a support conversation, so every input boundary either cleans text with these functions (mail,
spreadsheet imports, the CLI, search queries and the console's and portal's query strings — input
nobody can be asked to resend) or refuses it with a clear message naming the field (the API, with
``first_unsafe_character`` and ``unsafe_text_message``; console and portal form fields refuse a
NUL through Django's own validator). See docs/api.md and docs/channels.md.
"""

from __future__ import annotations

import re

from django.http import QueryDict
from django.utils.translation import gettext as _

# C0 controls except tab (09), line feed (0A) and carriage return (0D).
_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f"
_SURROGATE = "\ud800-\udfff"
_CONTROLS = re.compile(f"[{_CONTROL}]")
_SURROGATES = re.compile(f"[{_SURROGATE}]")
_UNSAFE = re.compile(f"[{_CONTROL}{_SURROGATE}]")
_UNSAFE_IN_LINE = re.compile(f"[\t\n\r{_CONTROL}{_SURROGATE}]")
_LINE_BREAKS = re.compile(r"[\t\r\n]+")


def clean_text(value: str) -> str:
    """``value`` without C0 control characters other than tab, LF and CR; a surrogate pair left
    split in the string is joined into its character, a lone surrogate becomes U+FFFD."""
    if not _UNSAFE.search(value):
        return value
    if _SURROGATES.search(value):
        # UTF-16 with surrogatepass turns each surrogate back into its code unit; decoding joins
        # a high + low pair into one character and replaces whatever is left alone.
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _CONTROLS.sub("", value)


def clean_line(value: str) -> str:
    """The strict variant for one-line values (subjects, names, addresses, file names, serial
    numbers, header values): ``clean_text``, and runs of tabs and line breaks become one space."""
    if not _UNSAFE_IN_LINE.search(value):
        return value
    return _LINE_BREAKS.sub(" ", clean_text(value))


def first_unsafe_character(value: str) -> str | None:
    """The first character ``clean_text`` would remove or replace, for inputs that refuse text
    instead of cleaning it; ``None`` when ``value`` is safe."""
    match = _UNSAFE.search(value)
    return match.group() if match else None


def describe_character(character: str) -> str:
    """``U+0000`` — how error messages name a refused character."""
    return f"U+{ord(character):04X}"


def unsafe_text_message(character: str) -> str:
    """The error message where a character is refused (API 422, form errors)."""
    return _(
        "Contains a character that cannot be stored (%(character)s, a control character or "
        "half of a surrogate pair); remove it and try again."
    ) % {"character": describe_character(character)}


class CleanQueryStringMiddleware:
    """Every query-string parameter of the console and portal — list filters, the search box,
    cursors — cleaned with ``clean_line`` before any view reads it, so a ``?q=%00`` finds what
    ``?q=`` would instead of answering 500 on PostgreSQL. The API is left out: it refuses such
    values with a 422 (``kefu.api.parser``). Form posts are Django forms' job: their text fields
    refuse NUL with a form error, and a browser cannot send a lone surrogate (request bodies
    are decoded with replacement characters)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/") and any(
            _UNSAFE_IN_LINE.search(text) for text in _query_texts(request.GET)
        ):
            cleaned = QueryDict(mutable=True)
            for key, values in request.GET.lists():
                cleaned.setlist(clean_line(key), [clean_line(value) for value in values])
            cleaned._mutable = False
            request.GET = cleaned
        return self.get_response(request)


def _query_texts(query: QueryDict):
    for key, values in query.lists():
        yield key
        yield from values
