from django.urls import path

from kefu.triage import views

app_name = "triage"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("train/", views.train, name="train"),
]
