"""Decoding bytes and RFC 2047 header words whatever charset label the sender put on them.

Real mail lies about its charset: GB2312 labels on text with GBK-only characters, unknown or
misspelt labels, raw 8-bit bytes in headers. Nothing here raises; the worst case is a few
replacement characters.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

# Supersets decode everything the subset does, and senders routinely use the superset's
# characters under the subset's name (GB2312 → GBK/GB18030, Big5 → HKSCS, KS C 5601 → CP949).
_ALIASES = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
    "x-unknown": "",
    "unknown": "",
    "unknown-8bit": "",
    "us-ascii": "",  # 8-bit bytes under an ASCII label are usually UTF-8
    "ascii": "",
    "iso-8859-1": "windows-1252",  # Windows senders put cp1252 quotes under Latin-1 labels
    "latin1": "windows-1252",
    "iso-2022-jp": "iso2022_jp_ext",
}


def codec_for(label: str | None) -> str | None:
    """The Python codec to use for a MIME charset label, or None when it is unknown or empty."""
    name = (label or "").strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


# When the labelled codec fails, the sender most likely used its vendor superset.
_RELATED = {
    "iso2022_jp_ext": ("iso2022_jp_2004", "iso2022_jp_3", "iso2022_jp_2", "cp932"),
    "iso2022_jp": ("iso2022_jp_2004", "iso2022_jp_3", "iso2022_jp_2", "cp932"),
    "euc_jp": ("euc_jis_2004", "cp932"),
    "shift_jis": ("cp932", "shift_jis_2004"),
    "big5hkscs": ("gb18030",),
}


_SINGLE_BYTE = ("iso8859", "cp125", "latin", "ascii", "mac")


def decode_bytes(data: bytes, label: str | None = None, *, fallback: str | None = None) -> str:
    """Decode ``data``: the labelled charset (and its supersets), UTF-8, ``fallback``, cp1252 —
    the first that decodes without error wins; Latin-1 as the last resort never fails."""
    labelled = codec_for(label)
    fallback_codec = codec_for(fallback)
    if b"\x1b$" in data and (labelled is None or labelled.startswith("iso2022")):
        return _decode_iso2022_jp(data)
    candidates = [labelled, *_RELATED.get(labelled or "", ())]
    if labelled and labelled.startswith(_SINGLE_BYTE):
        # Valid multi-byte UTF-8 is vanishingly rare in genuine Latin text: the label is wrong.
        candidates.insert(0, "utf-8")
    candidates += ["utf-8", fallback_codec, *_RELATED.get(fallback_codec or "", ())]
    tried: list[str] = []
    for candidate in candidates:
        if candidate is None or candidate in tried:
            continue
        tried.append(candidate)
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    if labelled and labelled != "utf-8" and not labelled.startswith(_SINGLE_BYTE):
        return data.decode(labelled, errors="replace")  # one bad byte in CJK text
    if not labelled and not fallback_codec:
        guessed = _guess_chinese(data)
        if guessed is not None:
            return guessed
    if _UTF8_SEQUENCE.search(data):
        # Text pasted together from UTF-8 and Latin sources under an unknown label: keep the
        # UTF-8 runs and read only the bytes that are not UTF-8 as cp1252.
        return data.decode("utf-8", errors="kefu-cp1252")
    try:
        return data.decode("windows-1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _cp1252_for_invalid_utf8(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)  # noqa: S101 - registered for decoding only
    bad = error.object[error.start : error.end]
    return bad.decode("windows-1252", errors="replace"), error.end


codecs.register_error("kefu-cp1252", _cp1252_for_invalid_utf8)


def _guess_chinese(data: bytes) -> str | None:
    """Unlabelled 8-bit text that reads as GB18030 Chinese (mostly CJK characters), or None."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    wide = [ch for ch in text if ord(ch) > 0x7F]
    cjk = sum(1 for ch in wide if "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")
    return text if wide and cjk / len(wide) >= 0.8 else None


def _decode_iso2022_jp(data: bytes) -> str:
    """ISO-2022-JP including the NEC and IBM extensions (①, Ⅰ…) that Python's codecs reject:
    the JIS X 0208 pairs are mapped to Shift_JIS and decoded as CP932."""
    try:
        return data.decode("iso2022_jp_ext")
    except UnicodeDecodeError:
        pass
    out = bytearray()
    mode = "ascii"
    index = 0
    while index < len(data):
        if data[index] == 0x1B:
            sequence = data[index + 1 : index + 3]
            if sequence in (b"$B", b"$@"):
                mode = "kanji"
            elif sequence == b"(I":
                mode = "katakana"
            else:
                mode = "ascii"
            index += 3
            continue
        byte = data[index]
        if mode == "kanji" and byte > 0x20 and index + 1 < len(data):
            first, second = byte, data[index + 1]
            lead = ((first + 1) >> 1) + (0x70 if first < 0x5F else 0xB0)
            if first & 1:
                trail = second + 0x1F + (1 if second >= 0x60 else 0)
            else:
                trail = second + 0x7E
            out += bytes([lead & 0xFF, trail & 0xFF])
            index += 2
            continue
        out.append(byte + 0x80 if mode == "katakana" and 0x21 <= byte <= 0x5F else byte)
        index += 1
    return out.decode("cp932", errors="replace")


def undo_surrogates(value: str, fallback: str | None = None) -> str:
    """Raw 8-bit header bytes arrive as surrogate escapes; decode them as text."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"), None, fallback=fallback)


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t\r\n]+(?==\?[^?\s]+\?[QqBb]\?)")
_Q_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding in "Bb":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            return base64.b64decode(cleaned)
        except (binascii.Error, ValueError):
            return text.encode("ascii", "replace")
    raw = text.replace("_", " ").encode("ascii", "surrogateescape")
    return _Q_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


def decode_header_words(value: str, fallback: str | None = None) -> str:
    """Decode RFC 2047 encoded words anywhere in ``value`` (tolerating malformed ones).

    Adjacent words are joined before decoding, so a multi-byte character split across two words
    (common with GBK and UTF-8 senders) survives.
    """
    value = undo_surrogates(value, fallback)
    if "=?" not in value:
        return value
    value = _BETWEEN_WORDS.sub(r"\1", value)
    pieces: list[str] = []
    pending: list[bytes] = []
    pending_charset = ""
    position = 0

    def flush() -> None:
        if pending:
            pieces.append(decode_bytes(b"".join(pending), pending_charset, fallback=fallback))
            pending.clear()

    for match in _ENCODED_WORD.finditer(value):
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        between = value[position : match.start()]
        if between or charset.lower() != pending_charset.lower():
            flush()
        if between:
            pieces.append(between)
        pending_charset = charset
        pending.append(_word_bytes(match.group(2), match.group(3)))
        position = match.end()
    flush()
    pieces.append(value[position:])
    return "".join(pieces)
