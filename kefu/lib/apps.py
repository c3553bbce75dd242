from django.apps import AppConfig


class LibConfig(AppConfig):
    name = "kefu.lib"
    label = "kefu_lib"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.lib.jobs import reap_stale_jobs
        from kefu.lib.tick import register_tick

        register_tick("reap_stale_jobs", reap_stale_jobs)
