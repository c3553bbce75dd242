"""Spreadsheet imports: start (dry run), confirm (queues the job), execute (in the worker)."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.access import is_active_staff
from kefu.accounts.models import User
from kefu.customers.models import (
    ImportKind,
    ImportRun,
    ImportStatus,
)

logger = logging.getLogger(__name__)


# --- imports ---------------------------------------------------------------------------------


def _require_importer(actor: User | None) -> None:
    if actor is not None and not staff_may_import(actor):
        raise PermissionDenied(_("Only supervisors and administrators import data."))


@transaction.atomic
def start_import(actor: User, *, kind: str, filename: str, content: bytes) -> ImportRun:
    """Store an uploaded CSV or Excel file and dry-run it: the returned run's ``preview`` says
    what each row would do and which cells are wrong; nothing is imported yet."""
    from kefu.customers import imports

    _require_importer(actor)
    if kind not in ImportKind.values:
        raise ValidationError({"kind": _("Unknown kind of import.")})
    rows = imports.read_rows(filename, content)  # raises ValidationError for unreadable files
    run = ImportRun(kind=kind, filename=filename[:255], created_by=actor)
    run.file.save(filename, ContentFile(content), save=False)
    outcomes = imports.dry_run(kind, rows)
    run.preview = [outcome.as_dict() for outcome in outcomes]
    run.total_rows = len(outcomes)
    run.error_count = sum(1 for outcome in outcomes if outcome.errors)
    run.save()
    return run


@transaction.atomic
def confirm_import(actor: User, run: ImportRun, *, only_valid_rows: bool = False) -> ImportRun:
    """Queue the import job. By default it imports nothing if any row has an error."""
    from kefu.customers.tasks import run_import

    _require_importer(actor)
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    if run.status != ImportStatus.PREVIEW:
        raise ValidationError({"run": _("This import was already started.")})
    run.status = ImportStatus.QUEUED
    run.only_valid_rows = only_valid_rows
    run.processed_rows = 0
    run.save()
    run_import.enqueue(run.pk)
    return run


def execute_import(run_id: int) -> ImportRun | None:
    """The job's body: validate every row again (the data may have changed since the preview),
    then write in one transaction. Progress is committed as it goes, so the page can poll it."""
    from kefu.customers import imports

    claimed = ImportRun.objects.filter(pk=run_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None  # already run (a retried or duplicated job)
    run = ImportRun.objects.get(pk=run_id)
    try:
        with run.file.open("rb") as handle:
            rows = imports.read_rows(run.filename, handle.read())
        result = imports.import_rows(run, rows)
    except ValidationError as error:
        ImportRun.objects.filter(pk=run_id).update(
            status=ImportStatus.FAILED,
            failure="; ".join(error.messages),
            finished_at=timezone.now(),
        )
    except Exception:
        # A bug or a lost file: a retry would find the run claimed, so it fails visibly instead.
        logger.exception("import %s failed", run_id)
        ImportRun.objects.filter(pk=run_id).update(
            status=ImportStatus.FAILED,
            failure=_("The import failed unexpectedly; nothing was imported."),
            finished_at=timezone.now(),
        )
        return ImportRun.objects.get(pk=run_id)
    else:
        ImportRun.objects.filter(pk=run_id).update(
            status=ImportStatus.DONE if result.succeeded else ImportStatus.FAILED,
            processed_rows=len(rows),
            created_count=result.created,
            updated_count=result.updated,
            skipped_count=result.skipped,
            error_count=len({error["row"] for error in result.errors}),
            errors=result.errors,
            failure="" if result.succeeded else _("Nothing was imported: some rows have errors."),
            finished_at=timezone.now(),
        )
    return ImportRun.objects.get(pk=run_id)


def staff_may_import(user: User) -> bool:
    return is_active_staff(user) and (user.is_admin or user.is_supervisor)
