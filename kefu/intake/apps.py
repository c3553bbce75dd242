from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "kefu.intake"
    label = "intake"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.intake.actions import claim_due_mailboxes, on_ticket_state_changed
        from kefu.intake.demo import load_demo
        from kefu.intake.email.send import deliver_email_reply, email_reply_message_id
        from kefu.lib.demo import register_demo_loader
        from kefu.lib.tick import register_tick
        from kefu.tickets import events
        from kefu.tickets.outbound import register_deliverer

        register_tick("mailboxes", claim_due_mailboxes)
        register_demo_loader("intake", load_demo)
        register_deliverer(deliver_email_reply, message_id=email_reply_message_id)
        events.register(events.TicketStateChanged, on_ticket_state_changed)
        from kefu.intake.merge import on_ticket_merged

        events.register(events.TicketMerged, on_ticket_merged)
