from django.urls import path

from kefu.sla import views

app_name = "sla"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("compliance/", views.compliance, name="compliance"),
    path("calendars/new/", views.calendar_new, name="calendar_new"),
    path("calendars/<int:pk>/", views.calendar_detail, name="calendar"),
    path("calendars/<int:pk>/dates/", views.calendar_date_add, name="calendar_date_add"),
    path(
        "calendars/<int:pk>/dates/<int:date_pk>/remove/",
        views.calendar_date_remove,
        name="calendar_date_remove",
    ),
    path("calendars/<int:pk>/import/", views.calendar_import, name="calendar_import"),
    path("policies/new/", views.policy_new, name="policy_new"),
    path("policies/<int:pk>/", views.policy_detail, name="policy"),
    path("policies/<int:pk>/levels/", views.level_add, name="level_add"),
    path(
        "policies/<int:pk>/levels/<int:level_pk>/remove/", views.level_remove, name="level_remove"
    ),
    path("tickets/<int:pk>/acknowledge/", views.ticket_acknowledge, name="acknowledge"),
    path("tickets/<int:pk>/escalate/", views.ticket_escalate, name="escalate"),
]
