from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "kefu.routing"
    label = "routing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.lib import config_cache
        from kefu.lib.tick import register_tick
        from kefu.routing import handlers
        from kefu.routing.actions import process_away_returns
        from kefu.routing.assignment import ROTATION_FIELDS
        from kefu.routing.models import AssignmentRule, GroupRouting

        handlers.register()
        config_cache.watch(AssignmentRule)
        config_cache.watch(GroupRouting, state_fields=ROTATION_FIELDS)
        register_tick("routing_away_returns", process_away_returns)
