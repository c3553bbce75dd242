from django.urls import path

from kefu.intake import views

app_name = "intake"

urlpatterns = [
    path("mailboxes/", views.mailbox_list, name="mailboxes"),
    path("mailboxes/new/", views.mailbox_edit, name="mailbox_new"),
    path("mailboxes/<int:pk>/", views.mailbox_edit, name="mailbox_edit"),
    path("mailboxes/<int:pk>/test/", views.mailbox_test, name="mailbox_test"),
    path("mailboxes/<int:pk>/connect/", views.mailbox_connect, name="mailbox_connect"),
    path("mailboxes/oauth/callback/", views.oauth_callback, name="oauth_callback"),
    path("mailboxes/failed/<int:pk>/retry/", views.inbound_retry, name="inbound_retry"),
    path("messages/<int:message_pk>/original.eml", views.message_eml, name="message_eml"),
    path("mailboxes/automatic-mail/", views.automatic_mail_settings, name="automatic_mail"),
]
