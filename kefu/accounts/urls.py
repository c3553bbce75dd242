from django.urls import path

from kefu.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/reset/", views.password_reset_request, name="password_reset"),
    path("password/set/<uidb64>/<token>/", views.set_password_view, name="set_password"),
    path("preferences/", views.preferences, name="preferences"),
    path("language/", views.switch_language, name="switch_language"),
]
