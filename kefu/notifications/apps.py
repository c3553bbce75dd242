from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kefu.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.lib import config_cache
        from kefu.lib.tick import register_tick
        from kefu.notifications import handlers
        from kefu.notifications.actions import process_waiting_alerts
        from kefu.notifications.models import GroupWaitingSetting

        handlers.register()
        config_cache.watch(GroupWaitingSetting)
        register_tick("waiting_tickets", process_waiting_alerts)
