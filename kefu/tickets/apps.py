from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "kefu.tickets"
    label = "tickets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.accounts.models import Group
        from kefu.lib import config_cache
        from kefu.lib.demo import register_demo_loader
        from kefu.lib.docs import register_docs_section
        from kefu.tickets.demo import load_demo
        from kefu.tickets.events import handlers_table
        from kefu.tickets.models import CustomField, TicketType

        register_demo_loader("tickets", load_demo)
        config_cache.watch(Group, TicketType, CustomField)
        register_docs_section("docs/architecture.md", "events", handlers_table)
