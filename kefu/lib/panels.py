"""What higher apps show on lower apps' pages: related sections and list columns.

A lower app's page (a contact, an organisation, an asset, a user, a group) shows what higher apps
know about its object — tickets today, visits, repair orders and surveys later — without
importing them (docs/architecture.md, "Import direction"). The higher app registers, in its
``AppConfig.ready()``:

- a **section** for the object's page: ``register_section(page, section, place=...)``, where
  ``section(request, obj)`` returns ``(template_name, context)`` — rendered with ``request`` —
  or ``None`` to show nothing. ``place`` is where the page renders it: ``"main"`` (its body,
  after its own content about the object), ``"facts"`` (``<dt>``/``<dd>`` pairs inside its list
  of facts) or ``"sidebar"`` (a ``<section>`` in its sidebar).
- **columns** for the page's list: ``register_columns(page, columns, values)``, where
  ``values(user, objects)`` returns ``{pk: {column name: value}}`` for the whole page of
  ``objects`` in one query — never one per row, list pages pin their query counts — and each
  :class:`Column` renders its ``template`` (one ``<td>``) with ``value`` for every row.

The section or the values function checks access itself: it shows ``request.user`` / ``user``
only what they may see (start from the app's ``visible_to(user)``). Pages render what is
registered in registration order, which is ``INSTALLED_APPS`` order, each in the place it names.

The pages (key: places; list with columns):

- ``contact`` (customers): main, facts; the contact list;
- ``organization`` (customers): main, facts;
- ``asset`` (customers): main;
- ``user`` (accounts): facts, sidebar; the user list. Its deactivation page asks where assigned
  work goes while the ``open_tickets`` column (tickets') is not zero;
- ``user_deactivation`` (accounts): main, what the deactivation would leave behind;
- ``group`` (accounts): sidebar; the group list.

A place a page does not have shows nothing; a new page key or place is added here and in the
page's template.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

# (request, obj) -> (template name, context), or None to show nothing.
Section = Callable[[Any, Any], tuple[str, dict[str, Any]] | None]
# (user, objects) -> {pk: {column name: value}}, every object of the page in one query.
ColumnValues = Callable[[Any, Sequence[Any]], Mapping[Any, Mapping[str, Any]]]

PLACES = ("main", "facts", "sidebar")


@dataclass(frozen=True)
class Column:
    """One column of a list page: its heading and the template of its cell (given ``value``)."""

    name: str
    heading: Any  # a (lazily) translated string
    template: str


@dataclass(frozen=True)
class _ColumnGroup:
    columns: tuple[Column, ...]
    values: ColumnValues


_sections: dict[str, list[tuple[str, Section]]] = defaultdict(list)
_columns: dict[str, list[_ColumnGroup]] = defaultdict(list)


def register_section(page: str, section: Section, *, place: str = "main") -> None:
    if place not in PLACES:
        raise ValueError(f"Unknown place {place!r}; pages have {', '.join(PLACES)}")
    _sections[page].append((place, section))


def register_columns(page: str, columns: Iterable[Column], values: ColumnValues) -> None:
    """``values`` computes every column of ``columns`` in one query (``{pk: {name: value}}``)."""
    _columns[page].append(_ColumnGroup(tuple(columns), values))


def unregister(page: str, registered: Callable) -> None:
    """Remove a section or a column group's values function (for tests)."""
    _sections[page] = [(p, s) for p, s in _sections[page] if s is not registered]
    _columns[page] = [group for group in _columns[page] if group.values is not registered]


def render_sections(request, page: str, obj: Any) -> dict[str, list[SafeString]]:
    """Every section registered for ``page``, rendered for ``obj``, by place."""
    rendered: dict[str, list[SafeString]] = {place: [] for place in PLACES}
    for place, section in _sections[page]:
        result = section(request, obj)
        if result is not None:
            template, context = result
            rendered[place].append(SafeString(render_to_string(template, context, request)))
    return rendered


def columns(page: str) -> list[Column]:
    """The columns registered for ``page``'s list, in order: the table's extra headings."""
    return [column for group in _columns[page] for column in group.columns]


class Row(SimpleNamespace):
    """One object's values by column name; ``cells`` pairs each column with its value."""

    cells: list[tuple[Column, Any]]


def rows(page: str, user, objects: Sequence[Any]) -> list[tuple[Any, Row]]:
    """``(object, row)`` for each of ``objects``: one ``values`` call per registered group."""
    computed = [(group, group.values(user, objects)) for group in _columns[page]]
    result = []
    for obj in objects:
        cells = []
        for group, values in computed:
            found = values.get(obj.pk, {})
            cells += [(column, found.get(column.name)) for column in group.columns]
        row = Row(**{column.name: value for column, value in cells})
        row.cells = cells
        result.append((obj, row))
    return result
