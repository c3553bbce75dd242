"""Built-in ticket types; names are translated when shown (see ``TicketType.__str__``)."""

from django.utils.translation import gettext_noop

DEFAULT_TICKET_TYPES = [
    ("question", gettext_noop("Question")),
    ("incident", gettext_noop("Incident")),
    ("problem", gettext_noop("Problem")),
    ("complaint", gettext_noop("Complaint")),
    ("request", gettext_noop("Service request")),
    ("repair", gettext_noop("Repair")),
]
