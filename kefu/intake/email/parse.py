"""Turn one raw RFC 5322 message into a ``ParsedEmail`` — never raising, whatever the input.

The standard library parses the structure (``policy.default``; ``compat32`` when the modern policy
chokes on a broken header); headers and bodies are decoded here with ``charsets`` so that wrong
and unknown charset labels degrade to a few replacement characters instead of an exception.
Anything that goes wrong is recorded in ``defects`` and sets ``is_malformed``, which makes the
ingest keep the original message beside whatever could be read.
"""

from __future__ import annotations

import binascii
import email
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.generator import BytesGenerator
from email.message import Message
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime

from kefu.intake.email.charsets import decode_bytes, decode_header_words, undo_surrogates
from kefu.intake.email.tnef import TnefError, is_tnef, unpack_tnef
from kefu.lib.html import html_to_text, sanitize_html
from kefu.lib.text import clean_line, clean_text

logger = logging.getLogger(__name__)

Address = tuple[str, str]  # (display name, e-mail address)

# Defects that mean the structure could not be read as the sender meant it.
_STRUCTURAL_DEFECTS = {
    "StartBoundaryNotFoundDefect",
    "CloseBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "MissingHeaderBodySeparatorDefect",
    "NoBoundaryInMultipartDefect",
    "InvalidBase64CharactersDefect",
    "InvalidBase64PaddingDefect",
    "InvalidBase64LengthDefect",
    "MisplacedEnvelopeHeaderDefect",
}
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_LOOSE_ADDRESS = re.compile(r"[^\s<>\"',;()]+@[^\s<>\"',;()]+")


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""
    is_inline: bool = False


@dataclass
class ParsedEmail:
    from_email: str = ""
    from_display_name: str = ""
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    reply_to: list[Address] = field(default_factory=list)
    subject: str = ""
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    date: datetime | None = None
    body_text: str = ""
    body_html: str = ""  # sanitised
    attachments: list[ParsedAttachment] = field(default_factory=list)
    headers: dict[str, list[str]] = field(default_factory=dict)  # lower-cased name → decoded values
    content_type: str = ""
    report_type: str = ""
    delivery_status: str = ""  # the text of a message/delivery-status part, if any
    has_feedback_report: bool = False
    embedded_message_ids: list[str] = field(default_factory=list)  # of message/rfc822 parts
    defects: list[str] = field(default_factory=list)
    is_malformed: bool = False
    charset_hint: str | None = None  # for unlabelled 8-bit text: the message's own charsets

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else ""

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this mail answers, most specific first (In-Reply-To, then References)."""
        ordered = list(self.in_reply_to) + list(reversed(self.references))
        return list(dict.fromkeys(ordered))


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse ``raw``; the result always has at least a subject or body and never raises.

    Every text in the result is clean (``kefu.lib.text``): no NUL or other control character
    (``=?utf-8?q?a=00b?=`` is the subject ``ab``), no lone surrogate, and one-line values
    (subject, addresses, names, header values, file names) on one line.
    """
    return _cleaned(_parse(raw))


def _parse(raw: bytes) -> ParsedEmail:
    raw, repaired = repair_header_block(raw)
    try:
        message = email.message_from_bytes(raw, policy=policy.default)
        parsed = _extract(message)
        if repaired:
            parsed.defects.append("RepairedHeaderBlock")
        return parsed
    except Exception as modern_error:  # a header the modern policy cannot parse
        logger.info("modern e-mail policy failed (%s); retrying with compat32", modern_error)
        try:
            parsed = _extract(email.message_from_bytes(raw, policy=policy.compat32))
        except Exception as error:
            logger.warning("could not parse an e-mail: %s", error)
            parsed = ParsedEmail(body_text=decode_bytes(raw[:200_000]))
            parsed.defects.append(f"{type(error).__name__}: {error}")
        parsed.defects.append(f"modern policy: {type(modern_error).__name__}")
        parsed.is_malformed = True
        return parsed


def _cleaned(parsed: ParsedEmail) -> ParsedEmail:
    def lines(values: list[str]) -> list[str]:
        return [clean_line(value) for value in values]

    def addresses(pairs: list[Address]) -> list[Address]:
        return [(clean_line(name), clean_line(address)) for name, address in pairs]

    for name in ("from_email", "from_display_name", "subject", "message_id", "content_type"):
        setattr(parsed, name, clean_line(getattr(parsed, name)))
    parsed.report_type = clean_line(parsed.report_type)
    parsed.body_text = clean_text(parsed.body_text)
    parsed.body_html = clean_text(parsed.body_html)
    parsed.delivery_status = clean_text(parsed.delivery_status)
    parsed.to, parsed.cc = addresses(parsed.to), addresses(parsed.cc)
    parsed.reply_to = addresses(parsed.reply_to)
    parsed.in_reply_to, parsed.references = lines(parsed.in_reply_to), lines(parsed.references)
    parsed.embedded_message_ids = lines(parsed.embedded_message_ids)
    parsed.defects = lines(parsed.defects)
    parsed.headers = {clean_line(name): lines(values) for name, values in parsed.headers.items()}
    for attachment in parsed.attachments:
        attachment.filename = clean_line(attachment.filename)
        attachment.content_type = clean_line(attachment.content_type)
        attachment.content_id = clean_line(attachment.content_id)
    return parsed


_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")


def repair_header_block(raw: bytes) -> tuple[bytes, bool]:
    """Rejoin header lines that lost their folding whitespace; drop junk before the first header.

    Some gateways unfold badly or prepend a banner line; the standard parser would then treat the
    rest of the headers as body. Returns the (possibly) repaired bytes and whether anything changed.
    """
    end = re.search(rb"\r?\n\r?\n", raw)
    head = raw[: end.start()] if end else raw
    lines = head.split(b"\n")
    repaired: list[bytes] = []
    changed = False
    for index, line in enumerate(lines):
        if _HEADER_LINE.match(line) or (index == 0 and line.startswith(b"From ")):
            repaired.append(line)
        elif line[:1] in (b" ", b"\t"):
            repaired.append(line)
        elif not repaired:
            changed = True  # junk before the first header
        else:
            repaired.append(b" " + line)
            changed = True
    if not changed:
        return raw, False
    rest = raw[end.start() :] if end else b""
    return b"\n".join(repaired) + rest, True


def _extract(message: Message) -> ParsedEmail:
    parsed = ParsedEmail()
    fallback = _first_text_charset(message)
    parsed.charset_hint = fallback
    for name, value in message.raw_items():
        decoded = decode_header_words(str(value), fallback)
        parsed.headers.setdefault(name.lower(), []).append(_unfold(decoded))

    parsed.subject = _unfold(parsed.header("subject")).strip()
    raw_headers: dict[str, list[str]] = {name.lower(): [] for name, _ in message.raw_items()}
    for name, value in message.raw_items():
        raw_headers[name.lower()].append(str(value))
    _read_sender(parsed, raw_headers, fallback)
    parsed.to = _addresses(raw_headers.get("to", []), fallback)
    parsed.cc = _addresses(raw_headers.get("cc", []), fallback)
    parsed.message_id = _first_id(parsed.header("message-id"))
    parsed.in_reply_to = _ids(parsed.header("in-reply-to"))
    parsed.references = _ids(" ".join(parsed.headers.get("references", [])))
    parsed.date = _date(parsed.header("date"))
    parsed.content_type = message.get_content_type()
    parsed.report_type = (str(message.get_param("report-type", "") or "")).lower()

    texts: list[str] = []
    htmls: list[str] = []
    _walk(message, parsed, texts, htmls, top=True)
    _finish_bodies(parsed, texts, htmls)

    defects = [type(d).__name__ for part in message.walk() for d in getattr(part, "defects", [])]
    parsed.defects.extend(defects)
    if not parsed.from_email or _STRUCTURAL_DEFECTS.intersection(defects):
        parsed.is_malformed = True
    return parsed


_MULTIBYTE = ("gb", "big5", "shift", "sjis", "euc", "iso-2022", "cp9", "ks_c", "windows-31j")


def _first_text_charset(message: Message) -> str | None:
    """The charset to read raw 8-bit header bytes with: a declared East Asian charset if any
    (their senders are the ones who put raw bytes in headers), else the first declared one."""
    declared = []
    for part in message.walk():
        try:
            charset = part.get_content_charset()
        except Exception:
            charset = None
        if charset:
            declared.append(charset)
    for charset in declared:
        if charset.lower().startswith(_MULTIBYTE):
            return charset
    return declared[0] if declared else None


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n[ \t]*", " ", value) if "\n" in value else value


_ENCODED_PHRASE = re.compile(
    r'"?(=\?[^?\s]+\?[QqBb]\?[^?]*\?=(?:\s*=\?[^?\s]+\?[QqBb]\?[^?]*\?=)*)"?'
)


def _quote_encoded_words(text: str, fallback: str | None) -> str:
    """Decode encoded words into quoted strings first, so a comma inside one splits nothing."""

    def quoted(match: re.Match) -> str:
        decoded = decode_header_words(match.group(1), fallback)
        return '"' + decoded.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return _ENCODED_PHRASE.sub(quoted, text) if "=?" in text else text


def _addresses(raw_values: list[str], fallback: str | None) -> list[Address]:
    found: list[Address] = []
    for raw in raw_values:
        text = _quote_encoded_words(undo_surrogates(_unfold(str(raw)), fallback), fallback)
        try:
            pairs = getaddresses([text])
        except Exception:
            pairs = []
        usable = [(name, address) for name, address in pairs if "@" in address or address]
        if not usable or all(not address for _name, address in usable):
            # Unparseable lists still usually contain something@somewhere.
            usable = [("", match) for match in _LOOSE_ADDRESS.findall(text)]
        for name, address in usable:
            address = decode_header_words(address, fallback).strip()
            if not address:
                continue
            words = address.split()
            if len(words) > 1 and "@" in words[-1] and '"' not in address and not name:
                # "Name address@host" without angle brackets: the last word is the address.
                name, address = " ".join(words[:-1]), words[-1]
            name = _without_comments(name, text)
            name = decode_header_words(name, fallback).strip().strip('"').strip()
            found.append((name, address))
    return found


_COMMENT = re.compile(r"\s*\([^()]*\)")


def _without_comments(name: str, header: str) -> str:
    """RFC 5322 comments are not part of the display name (``MAILER-DAEMON (Mail Delivery
    System) <…>``); a quoted name keeps its parentheses, and a name that is only a comment
    (``x@y (Name)``, the old style) stays the name."""
    if "(" not in name or f'"{name}"' in header:
        return name
    stripped = _COMMENT.sub("", name).strip()
    return stripped or name


def _read_sender(parsed: ParsedEmail, raw_headers: dict[str, list[str]], fallback) -> None:
    """From (several From headers and several addresses happen), else Reply-To, else Sender."""
    parsed.reply_to = _addresses(raw_headers.get("reply-to", []), fallback)
    candidates = [
        pair
        for header in ("from", "reply-to", "sender", "return-path")
        for pair in _addresses(raw_headers.get(header, []), fallback)
        if pair[1] and pair[1] != "<>"
    ]
    # Prefer a real address; a bare local part (MAILER-DAEMON) only when nothing else exists.
    candidates.sort(key=lambda pair: "@" not in pair[1])
    if candidates:
        parsed.from_display_name, parsed.from_email = candidates[0]


def _ids(value: str) -> list[str]:
    found = _MESSAGE_ID.findall(value or "")
    if not found and value and "@" in value:
        found = [token.strip("<>") for token in value.split() if "@" in token]
    return list(dict.fromkeys(f"<{item}>" for item in found))


def _first_id(value: str) -> str:
    ids = _ids(value)
    return ids[0][:255] if ids else ""


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


# --- bodies and attachments -----------------------------------------------------------------


_OPAQUE_MESSAGE_TYPES = ("message/rfc822", "message/global", "message/delivery-status")


def _walk(part: Message, parsed: ParsedEmail, texts: list[str], htmls: list[str], *, top=False):
    content_type = part.get_content_type()
    if part.is_multipart() and content_type not in _OPAQUE_MESSAGE_TYPES:
        for child in part.get_payload() or []:
            if isinstance(child, Message):
                _walk(child, parsed, texts, htmls)
        return
    disposition = (part.get_content_disposition() or "").lower()
    filename = _filename(part)
    is_attachment = disposition == "attachment" or bool(filename and disposition != "inline")
    if content_type in ("message/rfc822", "message/global"):
        _attach_message(part, parsed)
        return
    if content_type == "message/delivery-status":
        content = _part_body_bytes(part) if part.is_multipart() else (_payload_bytes(part) or b"")
        parsed.delivery_status += decode_bytes(content)
        parsed.attachments.append(
            ParsedAttachment(filename or "delivery-status.txt", content_type, content)
        )
        return
    if content_type == "message/feedback-report":
        parsed.has_feedback_report = True
    if content_type in ("text/rfc822-headers", "message/rfc822-headers"):
        # The returned mail's headers in a DSN: its Message-ID names our outgoing mail.
        found = re.search(r"^Message-ID:\s*(<[^>\s]+>)", _payload_text(part, None), re.I | re.M)
        if found:
            parsed.embedded_message_ids.append(found.group(1))
    body_slot = htmls if content_type == "text/html" else texts
    if (
        content_type in ("text/plain", "text/html")
        and not is_attachment
        and not (content_type == "text/html" and htmls)
    ):
        # Inline text parts between pictures are one body. The first HTML part is the body; a
        # later one (a second document after an attachment) is kept as an attachment instead
        # of being glued on, so nothing is lost and nothing is merged into markup it breaks.
        text = _payload_text(part, parsed.charset_hint)
        if content_type == "text/plain":
            text, uuencoded = _extract_uuencode(text)
            parsed.attachments.extend(uuencoded)
        body_slot.append(text)
        return
    payload = _payload_bytes(part)
    if payload is None:
        return
    content = payload
    if top and not content and content_type == "text/plain":
        return
    if _is_tnef_part(content_type, filename, content) and _unpack_tnef(content, parsed, texts):
        return
    parsed.attachments.append(
        ParsedAttachment(
            filename=filename or _default_filename(content_type, len(parsed.attachments) + 1),
            content_type=content_type,
            content=content,
            content_id=(_unfold(str(part.get("content-id", "") or ""))).strip().strip("<>"),
            is_inline=disposition == "inline" or bool(part.get("content-id")),
        )
    )


def _is_tnef_part(content_type: str, filename: str | None, content: bytes) -> bool:
    named = content_type in ("application/ms-tnef", "application/vnd.ms-tnef") or (
        (filename or "").lower() == "winmail.dat"
    )
    return named and is_tnef(content)


def _unpack_tnef(content: bytes, parsed: ParsedEmail, texts: list[str]) -> bool:
    """Replace a ``winmail.dat`` by the files inside it; False keeps it as it is (unreadable).

    Its plain-text body becomes the mail's body only when the mail has no text of its own.
    """
    try:
        unpacked = unpack_tnef(content)
    except TnefError:
        return False
    if not unpacked.attachments and not unpacked.body_text:
        return False
    for attachment in unpacked.attachments:
        parsed.attachments.append(
            ParsedAttachment(
                filename=attachment.filename,
                content_type=attachment.content_type,
                content=attachment.content,
                content_id=attachment.content_id,
                is_inline=False,
            )
        )
    if unpacked.body_text.strip() and not any(text.strip() for text in texts):
        texts.append(unpacked.body_text)
    return True


def _part_body_bytes(part: Message) -> bytes:
    """The body of a ``message/*`` part as it was sent (no header refolding, LF line ends)."""
    buffer = io.BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, maxheaderlen=0, policy=policy.compat32).flatten(
            part
        )
    except Exception:
        return b""
    data = buffer.getvalue().replace(b"\r\n", b"\n")
    separator = data.find(b"\n\n")
    body = data[separator + 2 :] if separator >= 0 else b""
    # The generator writes "Name: " for empty header values; the sender wrote "Name:".
    body = _EMPTY_HEADER.sub(rb"\1:\n", body)
    return body if body.strip() else b""


_EMPTY_HEADER = re.compile(rb"^([!-9;-~]+): \n", re.M)


def _attach_message(part: Message, parsed: ParsedEmail) -> None:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if isinstance(inner, Message):
        content = _part_body_bytes(part)
        subject = decode_header_words(str(inner.get("subject", "") or "")).strip()
        inner_id = _first_id(str(inner.get("message-id", "") or ""))
        if inner_id:
            parsed.embedded_message_ids.append(inner_id)
    else:
        content = _payload_bytes(part) or b""
        subject = ""
    name = _filename(part) or f"{_safe_name(subject) or 'message'}.eml"
    parsed.attachments.append(ParsedAttachment(name, "message/rfc822", content))


def _safe_name(value: str) -> str:
    return re.sub(r"[\\/\x00-\x1f]", "_", " ".join(value.split()))[:200]


def _filename(part: Message) -> str:
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        try:
            value = part.get_param(param, header=header)
        except Exception:
            value = None
        if value:
            if isinstance(value, tuple):
                value = collapse_rfc2231_value(value, errors="replace")
            return _safe_name(decode_header_words(str(value), _header_charset(part)))
    return ""


_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/html": "html",
    "text/calendar": "ics",
    "message/delivery-status": "txt",
    "application/ms-tnef": "dat",
}


def _header_charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _default_filename(content_type: str, number: int) -> str:
    extension = _EXTENSIONS.get(content_type, "bin")
    if content_type == "message/delivery-status":
        return "delivery-status.txt"
    return f"attachment-{number}.{extension}"


_UU_ENCODINGS = ("x-uuencode", "uuencode", "uue", "x-uue")


def _payload_bytes(part: Message) -> bytes | None:
    """The decoded payload; line ends of non-base64 payloads normalised to LF."""
    encoding = str(part.get("content-transfer-encoding", "") or "").strip().lower()
    raw = part.get_payload()
    if encoding in _UU_ENCODINGS and isinstance(raw, str):
        text = raw.replace("\r\n", "\n")
        decoded = _uudecode(text)
        if decoded is not None:
            return decoded[1]
        lines = _uudecode_lines(text)  # a bare body without begin/end lines
        if lines is not None:
            return lines
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        if isinstance(raw, str):
            return raw.encode("utf-8", "surrogateescape")
        return None
    if encoding != "base64":
        payload = payload.replace(b"\r\n", b"\n")
    return payload


_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_.:-]+)", re.I)


def _payload_text(part: Message, hint: str | None = None) -> str:
    data = _payload_bytes(part) or b""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    # An HTML part's own <meta charset> is the best guess when the MIME label is wrong.
    meta = _META_CHARSET.search(data[:4096]) if part.get_content_subtype() == "html" else None
    fallback = meta.group(1).decode("ascii") if meta else hint
    return decode_bytes(data, charset, fallback=fallback).replace("\r\n", "\n")


_UUENCODE = re.compile(r"^begin [0-7]{3,4} ([^\n]+)\n(.*?)\n`?\n?end[ \t]*$", re.M | re.S)


def _uudecode_lines(lines: str) -> bytes | None:
    data = bytearray()
    for line in lines.splitlines():
        if not line.strip() or line.strip() == "`":
            continue
        try:
            data += binascii.a2b_uu(line)
        except binascii.Error:
            # Some encoders emit trailing garbage; decode what the length byte promises.
            count = (((ord(line[0]) - 32) & 63) * 4 + 2) // 3
            try:
                data += binascii.a2b_uu(line[: count + 1])
            except binascii.Error:
                return None
    return bytes(data)


def _uudecode(text: str) -> tuple[str, bytes] | None:
    match = _UUENCODE.search(text)
    if match is None:
        return None
    data = _uudecode_lines(match.group(2))
    return None if data is None else (_safe_name(match.group(1).strip()), data)


def _extract_uuencode(text: str) -> tuple[str, list[ParsedAttachment]]:
    """Pull ``begin 644 name … end`` blocks out of a plain-text body as attachments."""
    if "begin " not in text:
        return text, []
    found = []

    def take(match: re.Match) -> str:
        data = _uudecode_lines(match.group(2))
        if data is None:
            return match.group(0)
        name = _safe_name(match.group(1).strip())
        found.append(ParsedAttachment(name, "application/octet-stream", data))
        return ""

    return _UUENCODE.sub(take, text), found


def _finish_bodies(parsed: ParsedEmail, texts: list[str], htmls: list[str]) -> None:
    text = "\n\n".join(t.strip("\n") for t in texts if t.strip())
    if htmls:
        parsed.body_html = sanitize_html("\n".join(htmls))
        parsed.body_text = text.strip() or html_to_text(parsed.body_html)
    else:
        parsed.body_text = text.strip()
