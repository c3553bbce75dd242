"""HTML sanitising (nh3) and plain-text conversions for message bodies."""

from __future__ import annotations

import html
import re

import nh3

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def sanitize_html(raw: str) -> str:
    """Strip scripts, event handlers, styles and unsafe URLs; keep ordinary formatting."""
    return nh3.clean(
        raw,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid", "tel"},
        link_rel="noopener noreferrer nofollow",
    )


_URL = re.compile(r"(https?://[^\s<>\"']+)")


def text_to_html(text: str) -> str:
    """Escape plain text and turn it into paragraphs with line breaks and clickable links."""
    paragraphs = re.split(r"\n\s*\n", text.strip().replace("\r\n", "\n"))
    rendered = []
    for paragraph in paragraphs:
        escaped = html.escape(paragraph)
        linked = _URL.sub(r'<a href="\1">\1</a>', escaped)
        rendered.append("<p>" + linked.replace("\n", "<br>") + "</p>")
    return sanitize_html("".join(rendered))


_BLOCK_END = re.compile(r"</(p|div|h[1-6]|li|tr|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)


def html_to_text(raw: str) -> str:
    cleaned = nh3.clean(_BLOCK_END.sub("\n", raw), tags=set())
    text = html.unescape(cleaned)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
