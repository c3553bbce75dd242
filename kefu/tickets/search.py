"""Ticket search: the search document of each ticket, and answering a search box for a user.

The document (``TicketSearchDocument``) is rewritten inside the transaction of every action that
changes what it holds — subject, messages, tags (``kefu.tickets.actions``) — and in batches by
``kefu search reindex`` / the ``reindex_tickets`` job. A search always starts from
``Ticket.objects.visible_to(user)``: it never returns, counts or snippets a ticket the user may not
see, and a customer's search only looks at the public columns (never internal notes or tags).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.search.backends import TextIndex, backend_for
from kefu.search.highlight import Highlighter
from kefu.search.query import ParsedQuery, QueryError
from kefu.search.tokens import index_text
from kefu.tickets.models import Message, Priority, State, Ticket, TicketSearchDocument

TICKET_INDEX = TextIndex(
    table=TicketSearchDocument._meta.db_table,
    key="ticket_id",
    columns=("subject_terms", "public_terms", "staff_terms"),
    weights=(4.0, 1.0, 0.5),
)
STAFF_COLUMNS = TICKET_INDEX.columns
CUSTOMER_COLUMNS = ("subject_terms", "public_terms")


# --- indexing -------------------------------------------------------------------------------


def build_document(
    ticket: Ticket, messages: Iterable[tuple[str, bool]], tags: Iterable[str]
) -> TicketSearchDocument:
    """The document of ``ticket`` from its ``(body_text, is_internal)`` messages and tag names."""
    public: list[str] = []
    internal: list[str] = []
    for body, is_internal in messages:
        (internal if is_internal else public).append(body)
    contact = ticket.contact
    organization = ticket.organization
    public += [contact.name, contact.email or "", contact.phone or "", contact.wechat_id or ""]
    if organization is not None:
        public.append(organization.name)
    return TicketSearchDocument(
        ticket_id=ticket.pk,
        subject_terms=index_text(str(ticket.number), ticket.subject),
        public_terms=index_text(*public),
        staff_terms=index_text(*internal, *tags),
        indexed_at=timezone.now(),
    )


def index_tickets(ticket_ids: Sequence[int]) -> int:
    """Rewrite the documents of these tickets (in four queries whatever their number)."""
    tickets = list(
        Ticket.objects.filter(pk__in=ticket_ids)
        .select_related("contact", "organization")
        .only("number", "subject", "contact", "organization")
    )
    if not tickets:
        return 0
    ids = [ticket.pk for ticket in tickets]
    messages: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    rows = Message.objects.filter(ticket_id__in=ids).order_by("ticket_id", "created_at", "id")
    for ticket_id, body, is_internal in rows.values_list("ticket_id", "body_text", "is_internal"):
        messages[ticket_id].append((body, is_internal))
    tags: dict[int, list[str]] = defaultdict(list)
    for ticket_id, name in Ticket.tags.through.objects.filter(ticket_id__in=ids).values_list(
        "ticket_id", "tag__name"
    ):
        tags[ticket_id].append(name)
    return _save_documents([build_document(t, messages[t.pk], tags[t.pk]) for t in tickets])


def _save_documents(documents: list[TicketSearchDocument]) -> int:
    TicketSearchDocument.objects.bulk_create(
        documents,
        update_conflicts=True,
        unique_fields=["ticket"],
        update_fields=["subject_terms", "public_terms", "staff_terms", "indexed_at"],
    )
    return len(documents)


def index_ticket(ticket: Ticket) -> None:
    index_tickets([ticket.pk])


def index_new_ticket(ticket: Ticket, first_message: Message, tags: Sequence[str]) -> None:
    """The document of a ticket just created, from the objects in hand (no reading back)."""
    messages = [(first_message.body_text, first_message.is_internal)]
    _save_documents([build_document(ticket, messages, list(tags))])


# --- searching ------------------------------------------------------------------------------


def search_columns(user: User) -> tuple[str, ...]:
    return STAFF_COLUMNS if user.is_staff_member else CUSTOMER_COLUMNS


def apply_query(user: User, tickets: QuerySet[Ticket], parsed: ParsedQuery) -> QuerySet[Ticket]:
    """``tickets`` narrowed by the query's field filters, and by its exclusions when it has no
    positive words (those are handled by the ranked search). Raises ``QueryError``."""
    for name, value in parsed.filters:
        tickets = tickets.filter(_filter_condition(user, name, value))
    if parsed.exclude and not parsed.include:
        sql, params = backend_for().matching_ids_sql(
            TICKET_INDEX, parsed.exclude, columns=search_columns(user)
        )
        tickets = tickets.exclude(pk__in=RawSQL(sql, params))  # noqa: S611 - query is a parameter
    return tickets


def _filter_condition(user: User, name: str, value: str) -> Q:
    lowered = value.lower()
    if name == "state":
        if lowered not in State.values:
            raise QueryError(
                _("Unknown state %(value)s; use one of: %(choices)s")
                % {"value": value, "choices": ", ".join(State.values)}
            )
        return Q(state=lowered)
    if name == "priority":
        if lowered not in Priority.values:
            raise QueryError(
                _("Unknown priority %(value)s; use one of: %(choices)s")
                % {"value": value, "choices": ", ".join(Priority.values)}
            )
        return Q(priority=lowered)
    if name == "customer":
        if value.isdigit():
            return Q(contact_id=int(value))
        return (
            Q(contact__name__icontains=value)
            | Q(contact__email__icontains=value)
            | Q(contact__phone__contains=value)
            | Q(organization__name__icontains=value)
        )
    if not user.is_staff_member:
        raise QueryError(_("%(field)s: is only available to staff.") % {"field": name})
    if name == "group":
        return Q(group_id=int(value)) if value.isdigit() else Q(group__name__icontains=value)
    # assignee
    if lowered == "me":
        return Q(assignee=user)
    if lowered == "none":
        return Q(assignee__isnull=True)
    if value.isdigit():
        return Q(assignee_id=int(value))
    return Q(assignee__name__icontains=value) | Q(assignee__email__icontains=value)


@dataclass
class SearchHit:
    ticket: Ticket
    subject: SafeString
    snippet: SafeString | None


@dataclass
class SearchPage:
    hits: list[SearchHit]
    offset: int
    has_next: bool

    @property
    def tickets(self) -> list[Ticket]:
        return [hit.ticket for hit in self.hits]


def ranked_page(
    user: User, tickets: QuerySet[Ticket], parsed: ParsedQuery, *, limit: int, offset: int = 0
) -> SearchPage:
    """One page of ``tickets`` (built on ``Ticket.objects.visible_to(user)``) matching the
    query's words, best first; three queries for any page size (plus the caller's prefetches).

    Call ``apply_query`` first for the field filters.
    """
    columns = search_columns(user)
    visible = Ticket.objects.visible_to(user)
    candidates = None  # searching everything (an admin without filters) needs no candidate list
    if tickets.query.where:
        candidates = tickets.values("pk").order_by().query.sql_with_params()
    elif visible.query.where:
        candidates = visible.values("pk").order_by().query.sql_with_params()
    ids = backend_for().ranked_ids(
        TICKET_INDEX,
        parsed.include,
        parsed.exclude,
        columns=columns,
        candidates=candidates,
        limit=limit + 1,
        offset=offset,
    )
    has_next = len(ids) > limit
    ids = ids[:limit]
    # Fetched through ``tickets`` for the caller's joins, and checked against visibility again.
    # The id list goes on the outer query too: with the caller's ten joins the planner cannot
    # move the visibility subquery first, and would join every visible ticket before it.
    rows = tickets.filter(pk__in=ids).filter(pk__in=visible.filter(pk__in=ids).values("pk"))
    found = {ticket.pk: ticket for ticket in rows}
    page_tickets = [found[pk] for pk in ids if pk in found]
    return SearchPage(
        hits=_with_snippets(user, page_tickets, parsed), offset=offset, has_next=has_next
    )


def _with_snippets(user: User, tickets: list[Ticket], parsed: ParsedQuery) -> list[SearchHit]:
    highlighter = Highlighter(parsed.highlight)
    messages = Message.objects.filter(ticket_id__in=[t.pk for t in tickets])
    if not user.is_staff_member:
        messages = messages.filter(is_internal=False)
    bodies: dict[int, list[str]] = defaultdict(list)
    for ticket_id, body in messages.order_by("created_at", "id").values_list(
        "ticket_id", "body_text"
    ):
        bodies[ticket_id].append(body)
    hits = []
    for ticket in tickets:
        snippet = None
        for body in bodies[ticket.pk]:
            snippet = highlighter.snippet(body)
            if snippet is not None:
                break
        hits.append(SearchHit(ticket, highlighter.highlight(ticket.subject), snippet))
    return hits


# --- reindexing everything ------------------------------------------------------------------

CHECKPOINT = "tickets"


def reindex_next_batch(batch_size: int, *, restart: bool = False) -> int:
    """Index the next ``batch_size`` tickets after the stored checkpoint; 0 when all are done.

    The checkpoint row is locked for the batch, so two runs (a command and a job) never index
    the same batch at once, and a run that stopped half-way resumes where it was.
    """
    from kefu.search.models import ReindexCheckpoint

    with transaction.atomic():
        checkpoint, _created = ReindexCheckpoint.objects.select_for_update().get_or_create(
            name=CHECKPOINT
        )
        if restart or checkpoint.finished_at is not None or checkpoint.started_at is None:
            checkpoint.last_id = checkpoint.done = 0
            checkpoint.started_at, checkpoint.finished_at = timezone.now(), None
        ids = list(
            Ticket.objects.filter(pk__gt=checkpoint.last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if ids:
            index_tickets(ids)
            checkpoint.last_id = ids[-1]
            checkpoint.done += len(ids)
        else:
            checkpoint.finished_at = timezone.now()
        checkpoint.save()
    return len(ids)


def reindex_progress() -> tuple[int, int]:
    """(tickets indexed in the current run, tickets in total)."""
    from kefu.search.models import ReindexCheckpoint

    checkpoint = ReindexCheckpoint.objects.filter(name=CHECKPOINT).first()
    done = checkpoint.done if checkpoint and checkpoint.finished_at is None else 0
    return done, Ticket.objects.count()
