"""Views of the public pages: home, and the sensor register for citizens (map, list, detail)."""

from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode

from accounts.models import Organisation
from purposes import selectors as purposes_selectors
from sensors import selectors
from sensors.filtersets import SensorFilterSet
from sensors.models import SensorType

REGISTER_FILTERS = ("type", "organisation")


def home(request):
    return render(request, "web/home.html")


def register(request):
    """The register: a map and a list of active public sensors, filtered by type and organisation."""
    params = {name: request.GET[name] for name in REGISTER_FILTERS if request.GET.get(name)}
    filterset = SensorFilterSet(params, queryset=selectors.register_sensors())
    sensors = filterset.qs if filterset.is_valid() else selectors.register_sensors().none()
    in_register = selectors.register_sensors()
    context = {
        "sensors": sensors.order_by("name"),
        "selected": params,
        "sensor_types": SensorType.objects.filter(sensors__in=in_register).distinct(),
        "organisations": Organisation.objects.filter(controlled_sensors__in=in_register).distinct()
        | Organisation.objects.filter(operated_sensors__in=in_register).distinct(),
        "restricted": selectors.register_restricted_summary(),
        "geojson_url": reverse("sensors-api:public-sensor-list")
        + "?"
        + urlencode({"format": "geojson", "page_size": 500, **params}),
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return render(request, "web/register/list.html", context)


def register_sensor(request, pk: int):
    """One sensor, explained for a citizen."""
    sensor = get_object_or_404(selectors.register_sensors(), pk=pk)
    context = {
        "sensor": sensor,
        "purposes": purposes_selectors.sensor_purposes(sensor_ids=[sensor.pk])[sensor.pk],
        "retention_days": sensor.raw_data_retention_hours / 24,
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return render(request, "web/register/sensor.html", context)
