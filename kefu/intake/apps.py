from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "kefu.intake"
    label = "intake"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.intake.actions import claim_due_mailboxes, on_ticket_state_changed
        from kefu.intake.email.send import deliver_email_reply, email_reply_message_id
        from kefu.intake.oauth import claim_due_token_refreshes, reconnect_warnings
        from kefu.intake.retries import claim_failed_mail_retries
        from kefu.lib import health
        from kefu.lib.tick import register_tick
        from kefu.tickets import events
        from kefu.tickets.outbound import register_deliverer

        register_tick("mailboxes", claim_due_mailboxes)
        register_tick("mailbox_tokens", claim_due_token_refreshes)
        register_tick("failed_mail_retries", claim_failed_mail_retries)
        health.register_warning_check("mailbox_oauth", reconnect_warnings)
        register_deliverer(deliver_email_reply, message_id=email_reply_message_id)
        events.register(events.TicketStateChanged, on_ticket_state_changed)
        from kefu.intake.merge import on_ticket_merged

        events.register(events.TicketMerged, on_ticket_merged)
