"""Split an e-mail's plain text into what the sender wrote now, the quoted history and the signature.

The timeline shows only the new text and folds the rest away. The split is a heuristic over the
reply headers that common mail programs write (English, German and Chinese Outlook, Gmail, QQ Mail,
Foxmail, Apple Mail) and must never hide the whole message: when nothing would remain, nothing is
folded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SIGNATURE_DELIMITERS = {"-- ", "--"}  # RFC 3676, and the same with the space lost in transit

_REPLY_HEADER = re.compile(
    r"""^\s*(?:
        On\s.+\swrote:                                  # Gmail, Apple Mail, Thunderbird
      | Am\s.+\sschrieb\s.*:                            # Am 2. März 2026 um 10:15 schrieb …:
      | .*(?:在|于|於).*(?:写道|寫道)\s*[:：]            # Foxmail, Gmail zh-CN / zh-TW
      | -{2,}\s*(?:Original\sMessage|Ursprüngliche\sNachricht|原始邮件|原始郵件)\s*-{2,}
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_HEADER_FROM = re.compile(r"^\s*\**(?:From|Von|发件人|寄件者|寄件人)\**\s*[:：]", re.IGNORECASE)
_HEADER_SENT = re.compile(
    r"^\s*\**(?:Sent|Date|Gesendet|Datum|发送时间|日期|时间|寄件日期|傳送時間|发送日期)\**\s*[:：]",
    re.IGNORECASE,
)
_HEADER_BLOCK_LINES = 4  # how far below From: the Sent:/Date: line may be (To:, Cc: between)


@dataclass(frozen=True)
class SplitReply:
    new_text: str
    quoted: str = ""
    signature: str = ""

    @property
    def is_folded(self) -> bool:
        return bool(self.quoted or self.signature)


def split_reply(text: str) -> SplitReply:
    """``SplitReply(new_text, quoted, signature)``; ``new_text`` is the whole text when folding
    would leave nothing to read."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    quote_start = _quote_start(lines)
    end = quote_start if quote_start is not None else len(lines)
    signature_start = next((i for i in range(end) if lines[i] in SIGNATURE_DELIMITERS), None)
    cut = signature_start if signature_start is not None else end
    new_text = _join(lines[:cut])
    if cut == len(lines) or not new_text.strip():
        return SplitReply(new_text=text.strip())
    signature = _join(lines[signature_start:end]) if signature_start is not None else ""
    return SplitReply(new_text=new_text, quoted=_join(lines[end:]), signature=signature)


def _quote_start(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if _is_reply_header(lines, index, line):
            return index
    return _trailing_quote_start(lines)


def _is_reply_header(lines: list[str], index: int, line: str) -> bool:
    if _REPLY_HEADER.match(line):
        return True
    # "On Mon, 2 Mar 2026, Li Lei <li@example.com>\nwrote:" — wrapped by the sender's program.
    if line.lstrip().startswith("On ") and index + 1 < len(lines):
        if _REPLY_HEADER.match(f"{line} {lines[index + 1].strip()}"):
            return True
    if _HEADER_FROM.match(line):
        following = lines[index + 1 : index + 1 + _HEADER_BLOCK_LINES]
        return any(_HEADER_SENT.match(candidate) for candidate in following)
    return False


def _trailing_quote_start(lines: list[str]) -> int | None:
    """The first line of the run of ``>`` lines (blank lines allowed) that ends the message."""
    start = None
    for index in range(len(lines) - 1, -1, -1):
        stripped = lines[index].strip()
        if stripped.startswith(">"):
            start = index
        elif stripped:
            break
    return start


def _join(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n").rstrip()
