from django.urls import path

from kefu.tickets import views

app_name = "tickets"

urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("new/", views.ticket_new, name="new"),
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
]
