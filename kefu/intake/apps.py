from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "kefu.intake"
    label = "intake"
    default_auto_field = "django.db.models.BigAutoField"
