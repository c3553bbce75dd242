"""Parsing of imported calendar dates: CSV (``date,kind,name``) and iCalendar (VEVENT all-day
entries). Pure functions; the writes are in ``kefu.sla.config``."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from kefu.sla.models import CalendarDateKind

MAX_IMPORT_BYTES = 512 * 1024
MAX_IMPORT_DAYS = 2000

KIND_WORDS = {
    "holiday": CalendarDateKind.HOLIDAY,
    "假": CalendarDateKind.HOLIDAY,
    "休": CalendarDateKind.HOLIDAY,
    "假日": CalendarDateKind.HOLIDAY,
    "放假": CalendarDateKind.HOLIDAY,
    "working_day": CalendarDateKind.WORKING_DAY,
    "workday": CalendarDateKind.WORKING_DAY,
    "working": CalendarDateKind.WORKING_DAY,
    "班": CalendarDateKind.WORKING_DAY,
    "上班": CalendarDateKind.WORKING_DAY,
    "调休": CalendarDateKind.WORKING_DAY,
}


@dataclass(frozen=True)
class ImportedDate:
    date: date
    kind: str
    name: str


class CalendarImportError(ValueError):
    """A file that cannot be imported; the message names the line."""


def parse_import(content: bytes, filename: str = "") -> list[ImportedDate]:
    if len(content) > MAX_IMPORT_BYTES:
        raise CalendarImportError(_("The file is larger than 512 KB."))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CalendarImportError(_("The file is not UTF-8 text.")) from None
    if "BEGIN:VCALENDAR" in text.upper():
        found = parse_icalendar(text)
    else:
        found = parse_csv(text)
    if not found:
        raise CalendarImportError(_("The file contains no dates."))
    if len(found) > MAX_IMPORT_DAYS:
        raise CalendarImportError(_("At most %(n)s dates per import.") % {"n": MAX_IMPORT_DAYS})
    return found


def parse_csv(text: str) -> list[ImportedDate]:
    """Rows ``date,kind[,name]``; ``kind`` is holiday or working_day (also 休/班); a header row
    and blank lines are skipped."""
    found = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if number == 1 and cells[0].lower() in ("date", "日期"):
            continue
        if len(cells) < 2:
            raise CalendarImportError(
                _("Line %(line)s: expected date,kind[,name].") % {"line": number}
            )
        try:
            day = date.fromisoformat(cells[0])
        except ValueError:
            raise CalendarImportError(
                _("Line %(line)s: %(value)s is not a date like 2027-01-01.")
                % {"line": number, "value": cells[0]}
            ) from None
        kind = KIND_WORDS.get(cells[1].lower())
        if kind is None:
            raise CalendarImportError(
                _("Line %(line)s: the kind must be holiday or working_day, not %(value)s.")
                % {"line": number, "value": cells[1]}
            )
        found.append(ImportedDate(day, kind, cells[2][:120] if len(cells) > 2 else ""))
    return found


def _unfold(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        else:
            lines.append(raw)
    return lines


def _ical_date(value: str) -> date:
    digits = value.strip()[:8]
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def parse_icalendar(text: str) -> list[ImportedDate]:
    """All-day VEVENTs become holidays, each day from DTSTART up to (not including) DTEND; an
    event whose summary or categories mention working (上班, 班, workday) is a working day."""
    found = []
    event: dict[str, str] | None = None
    for line in _unfold(text):
        name, _sep, value = line.partition(":")
        key = name.split(";")[0].upper()
        if key == "BEGIN" and value.upper() == "VEVENT":
            event = {}
        elif key == "END" and value.upper() == "VEVENT" and event is not None:
            found.extend(_event_days(event))
            event = None
        elif event is not None and key in ("DTSTART", "DTEND", "SUMMARY", "CATEGORIES"):
            event[key] = value.strip()
    return found


def _event_days(event: dict[str, str]) -> list[ImportedDate]:
    if "DTSTART" not in event:
        return []
    try:
        start = _ical_date(event["DTSTART"])
        end = _ical_date(event["DTEND"]) if "DTEND" in event else start + timedelta(days=1)
    except (ValueError, IndexError):
        raise CalendarImportError(
            _("An event has a date that cannot be read: %(value)s")
            % {"value": event.get("DTSTART", "")}
        ) from None
    summary = event.get("SUMMARY", "").replace("\\,", ",")
    words = f"{summary} {event.get('CATEGORIES', '')}".lower()
    working = any(word in words for word in ("上班", "班", "workday", "working day", "补班"))
    kind = CalendarDateKind.WORKING_DAY if working else CalendarDateKind.HOLIDAY
    days = []
    day = start
    while day < max(end, start + timedelta(days=1)):
        days.append(ImportedDate(day, kind, summary[:120]))
        day += timedelta(days=1)
    return days
