from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kefu.api"
    label = "api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.api.idempotency import purge_expired_idempotency_keys
        from kefu.lib.tick import register_tick

        register_tick("purge_idempotency_keys", purge_expired_idempotency_keys)
