from django.urls import path

from kefu.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("menu/", views.menu, name="menu"),
    path("badge/", views.badge, name="badge"),
    path("read-all/", views.read_all, name="read_all"),
    path("<int:pk>/read/", views.read, name="read"),
    path("<int:pk>/open/", views.open_notification, name="open"),
    path("preferences/", views.preferences, name="preferences"),
    path("groups/", views.group_settings, name="groups"),
    path("groups/<int:pk>/", views.group_edit, name="group"),
    path("mentions/<int:ticket_pk>/", views.mention_candidates, name="mentions"),
]
