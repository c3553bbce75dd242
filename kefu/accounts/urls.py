from django.urls import path

from kefu.accounts import admin_pages, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/reset/", views.password_reset_request, name="password_reset"),
    path("password/set/<uidb64>/<token>/", views.set_password_view, name="set_password"),
    path("preferences/", views.preferences, name="preferences"),
    path("language/", views.switch_language, name="switch_language"),
    # Administration (admin_pages.py): tokens for all staff; users and groups for admins.
    path("tokens/", admin_pages.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", admin_pages.token_revoke, name="token_revoke"),
    path("users/", admin_pages.users, name="users"),
    path("users/new/", admin_pages.user_new, name="user_new"),
    path("users/<int:pk>/", admin_pages.user_detail, name="user"),
    path("users/<int:pk>/memberships/", admin_pages.membership_set, name="membership_set"),
    path(
        "users/<int:pk>/memberships/<int:group_pk>/remove/",
        admin_pages.membership_remove,
        name="membership_remove",
    ),
    path("users/<int:pk>/invite/", admin_pages.user_invite, name="user_invite"),
    path("users/<int:pk>/deactivate/", admin_pages.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/reactivate/", admin_pages.user_reactivate, name="user_reactivate"),
    path("groups/", admin_pages.groups, name="groups"),
    path("groups/new/", admin_pages.group_new, name="group_new"),
    path("groups/<int:pk>/", admin_pages.group_detail, name="group"),
    path("groups/<int:pk>/deactivate/", admin_pages.group_deactivate, name="group_deactivate"),
    path("groups/<int:pk>/reactivate/", admin_pages.group_reactivate, name="group_reactivate"),
]
