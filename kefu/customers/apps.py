from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "kefu.customers"
    label = "customers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kefu.customers import demo
        from kefu.lib.demo import register_demo_loader

        register_demo_loader("customers", demo.load)
