from django.urls import path

from kefu.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.log, name="log"),
    path("privacy/", views.privacy_lookup, name="privacy"),
    path("privacy/contacts/<int:pk>/erase/", views.erase_contact, name="erase_contact"),
]
