from django.urls import path

from kefu.tickets import (
    category_views,
    custom_field_views,
    export_views,
    ticket_type_views,
    views,
    workspace_views,
)

app_name = "tickets"

urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("new/", views.ticket_new, name="new"),
    path("export/", export_views.export_tickets, name="export"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/timeline/", views.ticket_timeline, name="timeline"),
    path("<int:pk>/reply/", views.ticket_reply, name="reply"),
    path("<int:pk>/update/", views.ticket_update, name="update"),
    path(
        "<int:pk>/messages/<int:message_pk>/retry/",
        views.message_retry_delivery,
        name="retry_delivery",
    ),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("bulk/", workspace_views.ticket_bulk, name="bulk"),
    path("take-next/", workspace_views.take_next, name="take_next"),
    path("<int:pk>/links/", workspace_views.link_add, name="link_add"),
    path("<int:pk>/links/<int:link_pk>/remove/", workspace_views.link_remove, name="link_remove"),
    path("<int:pk>/merge/", workspace_views.ticket_merge, name="merge"),
    path(
        "<int:pk>/messages/<int:message_pk>/split/",
        workspace_views.message_split,
        name="split",
    ),
    path("categories/", category_views.category_list, name="categories"),
    path("categories/new/", category_views.category_edit, name="category_new"),
    path("categories/<int:pk>/", category_views.category_edit, name="category_edit"),
    path("custom-fields/", custom_field_views.custom_field_list, name="custom_fields"),
    path("custom-fields/new/", custom_field_views.custom_field_edit, name="custom_field_new"),
    path("custom-fields/<int:pk>/", custom_field_views.custom_field_edit, name="custom_field_edit"),
    path("types/", ticket_type_views.ticket_type_list, name="ticket_types"),
    path("types/new/", ticket_type_views.ticket_type_edit, name="ticket_type_new"),
    path("types/<int:pk>/", ticket_type_views.ticket_type_edit, name="ticket_type_edit"),
    path("tags/", ticket_type_views.tag_list, name="tags"),
    path("tags/<int:pk>/", ticket_type_views.tag_edit, name="tag_edit"),
]
