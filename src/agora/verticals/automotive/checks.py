"""`agora check` (and every management command) says at once when the vehicle data
provider cannot work, instead of the first lookup failing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def vehicle_provider_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    name = settings.AGORA_VEHICLE_PROVIDER
    if name == "offline":
        return []
    if name != "dvla_dvsa":
        return [
            Error(
                f"AGORA_VEHICLE_PROVIDER={name!r} is not a vehicle data provider.",
                hint="Use 'offline' (the default) or 'dvla_dvsa'.",
                id="automotive.E001",
            )
        ]
    from agora.verticals.automotive.providers.dvla_dvsa import DvlaDvsaConfig

    try:
        DvlaDvsaConfig.from_settings()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="automotive.E002")]
    return []
