from django.contrib import admin

from kefu.notifications.models import GroupWaitingSetting, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "ticket", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__email"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(GroupWaitingSetting)
class GroupWaitingSettingAdmin(admin.ModelAdmin):
    list_display = ["group", "waiting_after_minutes"]
