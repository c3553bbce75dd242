from django.urls import path

from kefu.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.ticket_list, name="tickets"),
    path("new/", views.new_ticket, name="new"),
    path("<int:pk>/", views.ticket_detail, name="ticket"),
    path("<int:pk>/reply/", views.reply, name="reply"),
    path("<int:pk>/close/", views.close, name="close"),
]
