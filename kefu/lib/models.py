from django.db import models


class ConfigVersion(models.Model):
    """One row whose token changes whenever watched configuration changes (kefu.lib.config_cache)."""

    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token
