from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "kefu.automation"
    label = "automation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.automation import handlers
        from kefu.automation.actions import process_due_time_rules
        from kefu.automation.models import TimeRule, Trigger, Webhook
        from kefu.lib import config_cache
        from kefu.lib.tick import register_tick

        handlers.register()
        config_cache.watch(Trigger, TimeRule, Webhook)
        register_tick("time_rules", process_due_time_rules)
