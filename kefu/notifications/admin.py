from django.contrib import admin

from kefu.lib.admin import ReadOnlyModelAdmin
from kefu.notifications.models import GroupWaitingSetting, Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    list_display = ["recipient", "kind", "ticket", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__email"]
    readonly_fields = [f.name for f in Notification._meta.fields]


@admin.register(GroupWaitingSetting)
class GroupWaitingSettingAdmin(ReadOnlyModelAdmin):
    list_display = ["group", "waiting_after_minutes"]
