from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "kefu.sla"
    label = "sla"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.lib import config_cache, health
        from kefu.lib.tick import register_tick
        from kefu.sla import handlers, models
        from kefu.sla.actions import process_due_slas
        from kefu.sla.checks import calendar_warnings
        from kefu.sla.serialise import RELATIONS, ticket_sla_data
        from kefu.tickets.serialise import register_section

        handlers.register()
        config_cache.watch(
            models.SLAPolicy, models.SLATarget, models.EscalationLevel,
            models.BusinessCalendar, models.CalendarDate,
        )  # fmt: skip
        register_tick("sla", process_due_slas)
        health.register_warning_check("sla_calendars", calendar_warnings)
        register_section("sla", ticket_sla_data, select_related=RELATIONS)
