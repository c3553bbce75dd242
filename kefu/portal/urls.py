from django.urls import path

from kefu.portal import signup_views, views

app_name = "portal"

urlpatterns = [
    path("", views.ticket_list, name="tickets"),
    path("new/", views.new_ticket, name="new"),
    path("products/", views.my_products, name="products"),
    path("<int:pk>/", views.ticket_detail, name="ticket"),
    path("<int:pk>/reply/", views.reply, name="reply"),
    path("<int:pk>/close/", views.close, name="close"),
]

urlpatterns += [
    path("signup/", signup_views.signup, name="signup"),
    path("signup/sent/", signup_views.signup_sent, name="signup_sent"),
    path("signup/resend/", signup_views.signup_resend, name="signup_resend"),
    path("signup/verify/<str:token>/", signup_views.signup_verify, name="signup_verify"),
    path("<int:pk>/conversation/", views.conversation_partial, name="conversation"),
]
