from django.apps import AppConfig


class LibConfig(AppConfig):
    name = "kefu.lib"
    label = "kefu_lib"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.lib.docs import register_docs_section
        from kefu.lib.events import handlers_table
        from kefu.lib.jobs import jobs_table, reap_stale_jobs
        from kefu.lib.tick import register_tick, tick_table

        register_tick("reap_stale_jobs", reap_stale_jobs)
        register_docs_section("docs/jobs.md", "jobs", jobs_table)
        register_docs_section("docs/jobs.md", "tick", tick_table)
        register_docs_section("docs/architecture.md", "events", handlers_table)
