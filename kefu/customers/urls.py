from django.urls import path

from kefu.customers import views

app_name = "customers"

urlpatterns = [
    path("search/", views.contact_search, name="search"),
    path("<int:pk>/invite/", views.contact_invite, name="invite"),
]
