"""What an uploaded file's name means to the operating system that will open it."""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath

# Format characters (zero-width spaces, right-to-left overrides) and control characters are
# invisible: "x.e\u200bxe" looks like x.exe but is not, "x.exe\u200b" is shown as x.exe.
_INVISIBLE_CATEGORIES = {"Cf", "Cc"}


def _strip_invisible(name: str) -> str:
    return "".join(ch for ch in name if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)


def effective_extensions(filename: str) -> set[str]:
    """The extensions, lower case without the dot, a system may act on for ``filename``.

    Normalised the way Windows and users read a name: compatibility forms folded (full-width
    ``ｅｘｅ`` is ``exe``), invisible characters dropped, trailing dots and spaces removed
    (Windows drops them when saving ``x.exe.`` or ``x.exe ``). A name with a colon also yields
    the extension before it, which NTFS treats as the file (``x.exe::$DATA``).
    """
    name = PurePosixPath(filename.replace("\\", "/")).name
    name = _strip_invisible(unicodedata.normalize("NFKC", name)).casefold()
    candidates = {name, name.split(":", 1)[0]}
    extensions = set()
    for candidate in candidates:
        while candidate != (trimmed := candidate.rstrip().rstrip(".")):
            candidate = trimmed
        _stem, dot, extension = candidate.rpartition(".")
        if dot and extension.strip():  # ".exe" alone counts too
            extensions.add(extension.strip())
    return extensions


def blocked_extension(filename: str, blocked: list[str]) -> str | None:
    """The first of ``filename``'s effective extensions that is in ``blocked``, else ``None``."""
    refused = {item.strip().lstrip(".").casefold() for item in blocked}
    return next(iter(sorted(effective_extensions(filename) & refused)), None)
