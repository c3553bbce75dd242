from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "kefu.tickets"
    label = "tickets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.accounts.models import Group
        from kefu.lib import config_cache
        from kefu.lib.console import register_navigation_count
        from kefu.realtime.topics import register_topic
        from kefu.tickets import handlers
        from kefu.tickets import panels as ticket_panels
        from kefu.tickets.access import can_see_ticket
        from kefu.tickets.models import CustomField, TicketType
        from kefu.tickets.views import my_open_tickets

        handlers.register()
        ticket_panels.register()
        register_topic("ticket", can_see_ticket)
        register_navigation_count("my_open_count", lambda user: my_open_tickets(user).count())
        config_cache.watch(Group, TicketType, CustomField)
