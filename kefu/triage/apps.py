from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "kefu.triage"
    label = "triage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.lib import config_cache
        from kefu.lib.tick import register_tick
        from kefu.triage import handlers
        from kefu.triage.actions import enqueue_due_training
        from kefu.triage.models import TriageConfig

        handlers.register()
        config_cache.watch(TriageConfig, state_fields=["next_training_at"])
        register_tick("triage", enqueue_due_training)
