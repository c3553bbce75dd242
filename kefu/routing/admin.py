from django.contrib import admin

from kefu.lib.admin import ReadOnlyModelAdmin
from kefu.routing.models import AgentProfile, AssignmentRule, GroupRouting


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(ReadOnlyModelAdmin):
    list_display = ("position", "name", "is_active", "match_mode", "stop_processing")
    ordering = ("position", "pk")


@admin.register(GroupRouting)
class GroupRoutingAdmin(ReadOnlyModelAdmin):
    list_display = ("group", "strategy", "max_in_a_row", "last_assigned_user", "assigned_count")


@admin.register(AgentProfile)
class AgentProfileAdmin(ReadOnlyModelAdmin):
    list_display = ("user", "availability", "away_until", "capacity", "weight")
