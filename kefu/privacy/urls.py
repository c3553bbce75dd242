from django.urls import path

from kefu.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.privacy_lookup, name="lookup"),
    path("contacts/<int:pk>/erase/", views.erase_contact, name="erase_contact"),
]
