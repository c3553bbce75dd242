from django.urls import path

from kefu.automation import views

app_name = "automation"

urlpatterns = [
    path("", views.index, name="index"),
    path("triggers/", views.trigger_list, name="triggers"),
    path("triggers/new/", views.trigger_edit, name="trigger_new"),
    path("triggers/<int:pk>/", views.trigger_edit, name="trigger"),
    path("triggers/<int:pk>/toggle/", views.trigger_toggle, name="trigger_toggle"),
    path("time-rules/", views.time_rule_list, name="time_rules"),
    path("time-rules/new/", views.time_rule_edit, name="time_rule_new"),
    path("time-rules/<int:pk>/", views.time_rule_edit, name="time_rule"),
    path("time-rules/<int:pk>/toggle/", views.time_rule_toggle, name="time_rule_toggle"),
    path("macros/", views.macro_list, name="macros"),
    path("macros/new/", views.macro_edit, name="macro_new"),
    path("macros/<int:pk>/", views.macro_edit, name="macro"),
    path("macros/<int:pk>/toggle/", views.macro_toggle, name="macro_toggle"),
    path("canned-responses/", views.canned_list, name="canned"),
    path("canned-responses/new/", views.canned_edit, name="canned_new"),
    path("canned-responses/<int:pk>/", views.canned_edit, name="canned_item"),
    path("canned-responses/<int:pk>/toggle/", views.canned_toggle, name="canned_toggle"),
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/new/", views.webhook_edit, name="webhook_new"),
    path("webhooks/<int:pk>/", views.webhook_edit, name="webhook"),
    path("webhooks/<int:pk>/toggle/", views.webhook_toggle, name="webhook_toggle"),
    path("webhooks/<int:pk>/test/", views.webhook_test, name="webhook_test"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_pk>/",
        views.delivery_detail,
        name="delivery",
    ),
    path("tickets/<int:pk>/macro/", views.ticket_apply_macro, name="apply_macro"),
    path("tickets/<int:pk>/canned/", views.ticket_canned_search, name="canned_search"),
    path(
        "tickets/<int:pk>/canned/<int:item_pk>/used/",
        views.ticket_canned_used,
        name="canned_used",
    ),
]
