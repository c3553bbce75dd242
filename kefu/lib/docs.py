"""Sections of the documentation generated from the registries, so that they cannot drift.

A section sits in a committed Markdown file between ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->``. Apps register what renders it in ``AppConfig.ready()`` (lib: the jobs
and the tick functions; tickets: the domain event handlers); ``kefu docs generate`` rewrites the
sections and ``kefu docs generate --check`` (and a test) fails while one is out of date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

GENERATE_COMMAND = "kefu docs generate"


@dataclass(frozen=True)
class Section:
    path: str  # relative to the repository root
    name: str
    render: Callable[[], str]


_sections: dict[tuple[str, str], Section] = {}


def register_docs_section(path: str, name: str, render: Callable[[], str]) -> None:
    _sections[(path, name)] = Section(path, name, render)


def registered_sections() -> list[Section]:
    return list(_sections.values())


def is_test_code(module: str) -> bool:
    """Jobs, tick functions and handlers a test declares are not part of Kefu's lists."""
    return ".tests." in f".{module}." or module.rsplit(".", 1)[-1].startswith("test_")


def summary(function: Callable) -> str:
    """The first sentence of ``function``'s docstring: its one-line description in the docs."""
    doc = (function.__doc__ or "").strip()
    if not doc:
        name = f"{function.__module__}.{function.__qualname__}"
        raise ValueError(f"{name} has no docstring; the generated docs need its first line")
    paragraph = " ".join(doc.split("\n\n", 1)[0].split())
    sentence_end = paragraph.find(". ")
    return paragraph if sentence_end < 0 else paragraph[: sentence_end + 1]


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated:{re.escape(name)} -->\n).*?(<!-- /generated:{re.escape(name)} -->)",
        re.DOTALL,
    )


def _root() -> Path:
    return Path(settings.BASE_DIR)


def generated_docs() -> dict[Path, tuple[str, str]]:
    """Each documentation file with a generated section: ``(committed text, generated text)``."""
    committed: dict[Path, str] = {}
    generated: dict[Path, str] = {}
    for section in registered_sections():
        path = _root() / section.path
        if path not in committed:
            committed[path] = generated[path] = path.read_text(encoding="utf-8")
        pattern = _pattern(section.name)
        if not pattern.search(generated[path]):
            raise ValueError(
                f"{section.path} has no <!-- generated:{section.name} --> … "
                f"<!-- /generated:{section.name} --> markers"
            )
        body = section.render().rstrip("\n") + "\n"
        generated[path] = pattern.sub(_replacement(body), generated[path])
    return {path: (committed[path], generated[path]) for path in committed}


def _replacement(body: str) -> Callable[[re.Match[str]], str]:
    return lambda match: match.group(1) + body + match.group(2)


def stale_docs() -> list[str]:
    """The documentation files whose generated sections differ from the registries."""
    return [
        str(path.relative_to(_root()))
        for path, (committed, generated) in generated_docs().items()
        if committed != generated
    ]


def write_docs() -> list[str]:
    """Rewrite the generated sections; returns the files that changed."""
    changed = []
    for path, (committed, generated) in generated_docs().items():
        if committed != generated:
            path.write_text(generated, encoding="utf-8")
            changed.append(str(path.relative_to(_root())))
    return changed


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)
