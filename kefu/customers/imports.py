"""Spreadsheet import of contacts, organisations, products and assets (CSV or Excel).

``read_rows`` turns a file into numbered rows, ``dry_run`` says what each row would do (create,
update or error, with the column and message of every problem) without writing, and
``import_rows`` (the import job, through ``actions.execute_import``) validates again and writes
through the actions. Rows are matched on their natural key — e-mail (else phone, else WeChat id)
for contacts, name for organisations, model number for products, serial number for assets — so
importing the same file twice updates instead of duplicating. Blank cells leave a value as it is.

Look-ups are loaded once per run into dictionaries, so validating a row costs no query; 500
assets validate in milliseconds and write in about a second.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.customers import actions
from kefu.customers.models import (
    Asset,
    AssetStatus,
    Contact,
    ImportKind,
    ImportRun,
    Organization,
    Product,
    Tier,
)
from kefu.lib.text import clean_line, clean_text

MAX_ROWS = 50_000
PROGRESS_EVERY = 100


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    required: bool = False


COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.CONTACTS: (
        Column("name", gettext_lazy("Name")),
        Column("email", gettext_lazy("E-mail")),
        Column("phone", gettext_lazy("Phone")),
        Column("wechat_id", gettext_lazy("WeChat id")),
        Column("organization", gettext_lazy("Organisation")),
        Column("language", gettext_lazy("Language")),
        Column("notes", gettext_lazy("Notes")),
    ),
    ImportKind.ORGANIZATIONS: (
        Column("name", gettext_lazy("Name"), required=True),
        Column("tier", gettext_lazy("Tier")),
        Column("domain", gettext_lazy("E-mail domain")),
        Column("members_share_tickets", gettext_lazy("Members see each other's tickets")),
        Column("notes", gettext_lazy("Notes")),
    ),
    ImportKind.PRODUCTS: (
        Column("model_number", gettext_lazy("Model"), required=True),
        Column("name", gettext_lazy("Name"), required=True),
        Column("category", gettext_lazy("Category")),
        Column("description", gettext_lazy("Description")),
        Column("warranty_months", gettext_lazy("Warranty (months)")),
    ),
    ImportKind.ASSETS: (
        Column("serial_number", gettext_lazy("Serial number"), required=True),
        Column("product", gettext_lazy("Product model"), required=True),
        Column("organization", gettext_lazy("Organisation")),
        Column("contact", gettext_lazy("Contact")),
        Column("installed_at", gettext_lazy("Installed on")),
        Column("warranty_ends_at", gettext_lazy("Warranty ends")),
        Column("installation_address", gettext_lazy("Installation address")),
        Column("status", gettext_lazy("Status")),
        Column("notes", gettext_lazy("Notes")),
    ),
}

# Header spellings people use besides the column keys (compared lower-case, spaces as "_").
ALIASES = {
    "e-mail": "email",
    "e_mail": "email",
    "mail": "email",
    "wechat": "wechat_id",
    "weixin": "wechat_id",
    "organisation": "organization",
    "company": "organization",
    "model": "model_number",
    "serial": "serial_number",
    "sn": "serial_number",
    "installed_on": "installed_at",
    "installation_date": "installed_at",
    "warranty_ends": "warranty_ends_at",
    "warranty_end": "warranty_ends_at",
    "address": "installation_address",
    "warranty_(months)": "warranty_months",
}

TRUE_WORDS = {"1", "yes", "y", "true", "t", "x", "是", "✓"}
FALSE_WORDS = {"0", "no", "n", "false", "f", "否", ""}
# Characters that make a spreadsheet evaluate a cell; exports prefix such text with "'".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Row:
    number: int  # as the spreadsheet shows it: the header is row 1
    values: dict[str, Any]


@dataclass
class Outcome:
    row: int
    action: str = ""  # "create", "update", or "error"
    key: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    target: Any = None  # the existing object an update changes

    def error(self, column: str | None, message: str) -> None:
        self.errors.append({"row": self.row, "column": column or "", "message": message})
        self.action = "error"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "action": self.action, "key": self.key, "errors": self.errors}


@dataclass
class Result:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    succeeded: bool = True


# --- reading files ---------------------------------------------------------------------------


def _header_key(value: Any, known: set[str]) -> str:
    text = re.sub(r"[\s\-]+", "_", clean_line(str(value or "")).strip().lower())
    text = ALIASES.get(text, text)
    return text if text in known else ""


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 13800000001 as a float
    if value is None:
        return ""
    if isinstance(value, date):
        return value
    # Files exported by other systems carry stray NULs and control characters (kefu.lib.text).
    text = clean_text(str(value)).strip()
    if text[:1] == "'" and text[1:2] in FORMULA_STARTS:
        text = text[1:]  # undo the export's protection against formula injection
    return text


def read_rows(filename: str, content: bytes) -> list[Row]:
    """The data rows of a ``.csv`` or ``.xlsx`` file, keyed by known column keys; raises
    ``ValidationError`` for a file it cannot read."""
    if len(content) > settings.MAX_UPLOAD_BYTES:
        raise ValidationError(
            {
                "file": _("The file is larger than the limit of %(mb)s MB.")
                % {"mb": settings.MAX_UPLOAD_BYTES // (1024 * 1024)}
            }
        )
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix == ".xlsx":
        table = _xlsx_table(content)
    elif suffix in (".csv", ".txt"):
        table = _csv_table(content)
    else:
        raise ValidationError({"file": _("Upload a .csv or .xlsx file.")})
    known = {column.key for kind in COLUMNS.values() for column in kind}
    try:
        header = next(table)
    except StopIteration:
        raise ValidationError({"file": _("The file is empty.")}) from None
    keys = [_header_key(value, known) for value in header]
    if not any(keys):
        raise ValidationError(
            {"file": _("The first row must name the columns; see the import help for the names.")}
        )
    rows: list[Row] = []
    for number, values in enumerate(table, start=2):
        cells = {key: _cell(value) for key, value in zip(keys, values, strict=False) if key}
        if not any(value not in ("", None) for value in cells.values()):
            continue  # blank line
        if len(rows) >= MAX_ROWS:
            raise ValidationError(
                {"file": _("At most %(n)s rows per import; split the file.") % {"n": MAX_ROWS}}
            )
        rows.append(Row(number, cells))
    return rows


def _csv_table(content: bytes):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError({"file": _("The CSV file is neither UTF-8 nor GB18030 text.")})
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    return iter(csv.reader(io.StringIO(text), dialect))


def _xlsx_table(content: bytes):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise ValidationError({"file": _("This is not an Excel (.xlsx) file.")}) from None
    sheet = workbook.worksheets[0]
    return iter(list(sheet.iter_rows(values_only=True)))


# --- parsing cells ---------------------------------------------------------------------------


def parse_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise ValueError(_("%(value)s is not a date; write it as 2026-03-31.") % {"value": text})


def parse_bool(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(_("Write yes or no, not %(value)s.") % {"value": value})


def _choice(value: Any, choices: type[Tier] | type[AssetStatus]) -> str:
    """A choice by key (``key_account``), key with spaces, or label in the current language."""
    text = " ".join(str(value).split()).lower()
    for key, label in choices.choices:
        if text in (key, key.replace("_", " "), str(label).lower()):
            return key
    keys = ", ".join(choices.values)
    raise ValueError(
        _("Unknown value %(value)s; use one of: %(keys)s") % {"value": value, "keys": keys}
    )


# --- checking rows ---------------------------------------------------------------------------


class Lookups:
    """Everything a run refers to, loaded once (names and keys compared case-insensitively)."""

    def __init__(self, kind: str):
        self.organizations = {o.name.lower(): o for o in Organization.objects.all()}
        self.products = {p.model_number.lower(): p for p in Product.objects.all()}
        self.contacts_by: dict[str, dict[str, Contact]] = {
            "email": {},
            "phone": {},
            "wechat_id": {},
        }
        if kind in (ImportKind.CONTACTS, ImportKind.ASSETS):
            for contact in Contact.objects.select_related("organization"):
                for name in self.contacts_by:
                    value = getattr(contact, name)
                    if value:
                        self.contacts_by[name][value.lower()] = contact
        self.assets = (
            {a.serial_number.lower(): a for a in Asset.objects.all()}
            if kind == ImportKind.ASSETS
            else {}
        )
        self.seen: dict[str, int] = {}  # natural key → the row that had it first

    def contact(self, identifier: str) -> Contact | None:
        text = identifier.strip().lower()
        found = self.contacts_by["email"].get(text) or self.contacts_by["wechat_id"].get(text)
        if found is None:
            phone = actions.normalise_phone(identifier)
            found = self.contacts_by["phone"].get((phone or "").lower())
        return actions.follow_merges(found) if found is not None and found.merged_into_id else found

    def first_time(self, outcome: Outcome, key: str, column: str) -> None:
        earlier = self.seen.setdefault(key.lower(), outcome.row)
        if earlier != outcome.row:
            outcome.error(
                column,
                _("%(key)s appears again; row %(row)s has it already.")
                % {"key": key, "row": earlier},
            )


def _text(row: Row, key: str) -> str:
    value = row.values.get(key, "")
    return value.isoformat() if isinstance(value, date) else str(value).strip()


def _given(row: Row, key: str) -> bool:
    return key in row.values and row.values[key] not in ("", None)


def check_contact(row: Row, lookups: Lookups) -> Outcome:
    outcome = Outcome(row.number)
    try:
        email, phone, wechat_id = actions.normalise_identifiers(
            _text(row, "email"), _text(row, "phone"), _text(row, "wechat_id")
        )
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            for message in messages:
                outcome.error(name, message)
        return outcome
    existing = (
        (email and lookups.contacts_by["email"].get(email.lower()))
        or (phone and lookups.contacts_by["phone"].get(phone.lower()))
        or (wechat_id and lookups.contacts_by["wechat_id"].get(wechat_id.lower()))
        or None
    )
    outcome.key = email or phone or wechat_id or ""
    lookups.first_time(
        outcome, outcome.key, "email" if email else "phone" if phone else "wechat_id"
    )
    data: dict[str, Any] = {}
    for name, value in (("email", email), ("phone", phone), ("wechat_id", wechat_id)):
        if value:
            owner = lookups.contacts_by[name].get(value.lower())
            if owner is not None and existing is not None and owner.pk != existing.pk:
                outcome.error(
                    name,
                    _("%(value)s belongs to another customer, %(contact)s.")
                    % {"value": value, "contact": owner},
                )
            data[name] = value
    if existing is not None and existing.merged_into_id:
        outcome.error(
            None, _("%(contact)s was merged into another customer.") % {"contact": existing}
        )
    for name in ("name", "language", "notes"):
        if _given(row, name):
            data[name] = _text(row, name)
    if data.get("language") and data["language"] not in dict(settings.LANGUAGES):
        codes = ", ".join(dict(settings.LANGUAGES))
        outcome.error(
            "language",
            _("Unknown language %(value)s; use one of: %(keys)s")
            % {"value": data["language"], "keys": codes},
        )
    if _given(row, "organization"):
        organization = lookups.organizations.get(_text(row, "organization").lower())
        if organization is None:
            outcome.error(
                "organization",
                _("There is no organisation named %(name)s; import the organisations first.")
                % {"name": _text(row, "organization")},
            )
        data["organization"] = organization
    return _finish(outcome, data, existing)


def check_organization(row: Row, lookups: Lookups) -> Outcome:
    outcome = Outcome(row.number)
    name = " ".join(_text(row, "name").split())
    outcome.key = name
    if not name:
        outcome.error("name", _("The organisation needs a name."))
        return outcome
    lookups.first_time(outcome, name, "name")
    data: dict[str, Any] = {"name": name}
    for key, parse in (
        ("tier", lambda value: _choice(value, Tier)),
        ("members_share_tickets", parse_bool),
        ("domain", str),
        ("notes", str),
    ):
        if _given(row, key):
            try:
                data[key] = parse(row.values[key])
            except ValueError as error:
                outcome.error(key, str(error))
    return _finish(outcome, data, lookups.organizations.get(name.lower()))


def check_product(row: Row, lookups: Lookups) -> Outcome:
    outcome = Outcome(row.number)
    model_number = " ".join(_text(row, "model_number").split())
    outcome.key = model_number
    existing = lookups.products.get(model_number.lower()) if model_number else None
    if not model_number:
        outcome.error("model_number", _("The model number must not be empty."))
    else:
        lookups.first_time(outcome, model_number, "model_number")
    data: dict[str, Any] = {"model_number": model_number}
    if _given(row, "name"):
        data["name"] = _text(row, "name")
    elif existing is None:
        outcome.error("name", _("The product needs a name."))
    for key in ("category", "description"):
        if _given(row, key):
            data[key] = _text(row, key)
    if _given(row, "warranty_months"):
        text = _text(row, "warranty_months")
        if not text.isdigit() or int(text) > 600:
            outcome.error("warranty_months", _("Give the warranty as whole months (0 to 600)."))
        else:
            data["warranty_months"] = int(text)
    return _finish(outcome, data, existing)


def check_asset(row: Row, lookups: Lookups) -> Outcome:
    outcome = Outcome(row.number)
    serial = "".join(_text(row, "serial_number").split())
    outcome.key = serial
    existing = lookups.assets.get(serial.lower()) if serial else None
    if not serial:
        outcome.error("serial_number", _("The serial number must not be empty."))
    else:
        lookups.first_time(outcome, serial, "serial_number")
    data: dict[str, Any] = {"serial_number": serial}
    model_number = _text(row, "product")
    if model_number:
        product = lookups.products.get(model_number.lower())
        if product is None:
            outcome.error(
                "product",
                _("There is no product with model number %(value)s.") % {"value": model_number},
            )
        elif not product.is_active and (existing is None or existing.product_id != product.pk):
            outcome.error(
                "product", _("The product %(product)s is deactivated.") % {"product": product}
            )
        data["product"] = product
    elif existing is None:
        outcome.error("product", _("Give the product's model number."))
    if _given(row, "organization"):
        organization = lookups.organizations.get(_text(row, "organization").lower())
        if organization is None:
            outcome.error(
                "organization",
                _("There is no organisation named %(name)s; import the organisations first.")
                % {"name": _text(row, "organization")},
            )
        data["organization"] = organization
    if _given(row, "contact"):
        contact = lookups.contact(_text(row, "contact"))
        if contact is None:
            outcome.error(
                "contact",
                _("No customer has the e-mail, phone or WeChat id %(value)s.")
                % {"value": _text(row, "contact")},
            )
        data["contact"] = contact
    for key in ("installed_at", "warranty_ends_at"):
        if _given(row, key):
            try:
                data[key] = parse_date(row.values[key])
            except ValueError as error:
                outcome.error(key, str(error))
    if (
        data.get("installed_at")
        and data.get("warranty_ends_at")
        and data["warranty_ends_at"] < data["installed_at"]
    ):
        outcome.error(
            "warranty_ends_at", _("The warranty cannot end before the installation date.")
        )
    if _given(row, "status"):
        try:
            data["status"] = _choice(row.values["status"], AssetStatus)
        except ValueError as error:
            outcome.error("status", str(error))
    for key in ("installation_address", "notes"):
        if _given(row, key):
            data[key] = _text(row, key)
    return _finish(outcome, data, existing)


def _finish(outcome: Outcome, data: dict[str, Any], existing: Any) -> Outcome:
    outcome.data = data
    outcome.target = existing
    if not outcome.errors:
        outcome.action = "update" if existing is not None else "create"
    return outcome


CHECKS: dict[str, Callable[[Row, Lookups], Outcome]] = {
    ImportKind.CONTACTS: check_contact,
    ImportKind.ORGANIZATIONS: check_organization,
    ImportKind.PRODUCTS: check_product,
    ImportKind.ASSETS: check_asset,
}


def missing_columns(kind: str, rows: list[Row]) -> list[str]:
    present = set().union(*(row.values for row in rows)) if rows else set()
    return [c.key for c in COLUMNS[kind] if c.required and c.key not in present]


def dry_run(
    kind: str, rows: list[Row], progress: Callable[[int], None] | None = None
) -> list[Outcome]:
    """What each row would do; writes nothing."""
    lookups = Lookups(kind)
    check = CHECKS[kind]
    outcomes = []
    missing = missing_columns(kind, rows)
    for index, row in enumerate(rows, start=1):
        outcome = check(row, lookups)
        for key in missing:
            if not any(error["column"] == key for error in outcome.errors):
                outcome.error(key, _("The column %(column)s is missing.") % {"column": key})
        outcomes.append(outcome)
        if progress is not None and index % PROGRESS_EVERY == 0:
            progress(index)
    return outcomes


# --- writing ---------------------------------------------------------------------------------


def _apply(kind: str, actor, outcome: Outcome) -> None:
    data, target = outcome.data, outcome.target
    if kind == ImportKind.CONTACTS:
        if target is None:
            actions.create_contact(actor, **data)
        else:
            actions.update_contact(actor, target, **data)
    elif kind == ImportKind.ORGANIZATIONS:
        if target is None:
            actions.create_organization(actor, **data)
        else:
            actions.update_organization(actor, target, **data)
    elif kind == ImportKind.PRODUCTS:
        if target is None:
            actions.create_product(actor, **data)
        else:
            actions.update_product(actor, target, **data)
    elif target is None:
        actions.create_asset(actor, **data)
    else:
        actions.update_asset(actor, target, **data)


def import_rows(run: ImportRun, rows: list[Row]) -> Result:
    """Validate (reporting progress), then write the rows in one transaction: all of them, or
    with ``run.only_valid_rows`` those without errors (each alone, so one failing write skips
    only its row)."""
    total = len(rows)
    ImportRun.objects.filter(pk=run.pk).update(total_rows=total)

    def progress(done: int) -> None:
        # Validation is half the work; the bar reaches 50 % before anything is written.
        ImportRun.objects.filter(pk=run.pk).update(processed_rows=done // 2)

    outcomes = dry_run(run.kind, rows, progress)
    result = Result(errors=[error for outcome in outcomes for error in outcome.errors])
    if result.errors and not run.only_valid_rows:
        result.succeeded = False
        return result
    actor = run.created_by
    try:
        with transaction.atomic():
            pending = [outcome for outcome in outcomes if not outcome.errors]
            result.skipped = len(outcomes) - len(pending)
            if run.kind == ImportKind.ASSETS:
                pending = _bulk_create_assets(actor, pending, result)
            for outcome in pending:
                try:
                    with transaction.atomic():
                        _apply(run.kind, actor, outcome)
                except (ValidationError, PermissionDenied) as error:
                    _record_error(result, outcome, error)
                    if not run.only_valid_rows:
                        raise
                    result.skipped += 1
                    continue
                if outcome.action == "create":
                    result.created += 1
                else:
                    result.updated += 1
    except (ValidationError, PermissionDenied):
        result.created = result.updated = 0
        result.succeeded = False
    return result


def _bulk_create_assets(actor, outcomes: list[Outcome], result: Result) -> list[Outcome]:
    """Insert the new units in bulk (the common case of a large import); returns the rows left
    for one-by-one writing (updates, or every row if the bulk insert was refused)."""
    new = [outcome for outcome in outcomes if outcome.action == "create"]
    if not new:
        return outcomes
    try:
        with transaction.atomic():
            actions.create_assets(actor, [outcome.data for outcome in new])
    except ValidationError:
        return outcomes  # something changed since validation: write row by row, with errors
    result.created += len(new)
    return [outcome for outcome in outcomes if outcome.action != "create"]


def _record_error(result: Result, outcome: Outcome, error: Exception) -> None:
    messages = getattr(error, "message_dict", None) or {"": [str(error)]}
    for column, texts in messages.items():
        for text in texts:
            result.errors.append({"row": outcome.row, "column": column, "message": text})
