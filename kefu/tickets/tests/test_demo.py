"""The workspace's demo data loads with the base demo."""

from kefu.demo.load import load_demo
from kefu.tickets.models import Category, CustomField, LinkKind, TicketLink


def test_the_demo_has_categories_custom_fields_and_a_child_ticket(db):
    assert load_demo()
    assert Category.objects.filter(parent__parent__isnull=False).exists()  # three levels
    assert CustomField.objects.filter(key="purchase_channel").exists()
    assert TicketLink.objects.filter(kind=LinkKind.CHILD).count() == 1


def test_demo_tickets_come_only_through_channels_kefu_has(db):
    """No ticket of a channel that does not exist yet (WeChat), typed in by staff."""
    from kefu.tickets.models import Ticket

    assert load_demo()
    assert set(Ticket.objects.values_list("channel", flat=True)) <= {"email", "web", "phone", "api"}
