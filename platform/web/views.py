"""Views of the public pages: home, the sensor register for citizens (map, list, detail), the open dashboard."""

import json
from datetime import date

from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import Organisation
from purposes import selectors as purposes_selectors
from purposes.models import Purpose
from sensors import selectors
from sensors.filtersets import SensorFilterSet
from sensors.models import Area, SensorType
from web import selectors as web_selectors

REGISTER_FILTERS = ("type", "organisation", "area")
ACCESS_MONTHS = 12  # the sensor page's table of accesses: this month and the 11 before


def map_bounds(sensors) -> list[list[float]] | None:
    """[[south, west], [north, east]] around the sensors with a published location; None when none has one."""
    located = [(sensor.latitude, sensor.longitude) for sensor in sensors if sensor.latitude is not None]
    if not located:
        return None
    latitudes, longitudes = zip(*located, strict=True)
    return [[min(latitudes), min(longitudes)], [max(latitudes), max(longitudes)]]


def home(request):
    return render(request, "web/home.html", {"catalogue_url": reverse("catalogue")})


def register(request):
    """The register: a map and a list of the public sensors, filtered by type, organisation and area. The map
    reads the same filters from the register API; the form works without JavaScript."""
    params = {name: request.GET[name] for name in REGISTER_FILTERS if request.GET.get(name)}
    in_register = selectors.register_sensors()
    filterset = SensorFilterSet(params, queryset=in_register)
    valid = filterset.is_valid()
    # The list, its count and the map's bounds all come from this one read.
    sensors = list((filterset.qs if valid else in_register.none()).order_by("name"))
    bounds = map_bounds(sensors)
    without_location = sum(1 for sensor in sensors if sensor.latitude is None)
    context = {
        "sensors": sensors,
        "selected": params,
        # An invalid filter is said at its field (as the catalogue does), not shown as an empty result.
        "errors": {} if valid else filterset.errors,
        "sensor_types": SensorType.objects.filter(sensors__in=in_register).distinct(),
        "organisations": Organisation.objects.filter(controlled_sensors__in=in_register).distinct()
        | Organisation.objects.filter(operated_sensors__in=in_register).distinct(),
        "areas": Area.objects.filter(sensors__in=in_register).distinct().order_by("name"),
        "restricted": selectors.register_restricted_summary(),
        "geojson_url": reverse("sensors-api:public-sensor-list")
        + "?"
        + urlencode({"format": "geojson", "page_size": 500, **params}),
        # No sensor selected with a location: the map keeps the whole register in view (the page says so).
        "map_bounds": json.dumps(bounds or map_bounds(in_register)),
        "without_location": without_location,
        "on_map": len(sensors) - without_location,
    }
    return render(request, "web/register/list.html", context)


def register_sensor(request, pk: int):
    """One sensor, explained for a citizen."""
    sensor = get_object_or_404(selectors.register_sensors(), pk=pk)
    accesses = purposes_selectors.sensor_access_stats(sensor_id=sensor.pk, months=ACCESS_MONTHS)
    titles = dict(Purpose.objects.filter(code__in={row["purpose"] for row in accesses}).values_list("code", "title"))
    for row in accesses:
        row["month_start"] = date.fromisoformat(f"{row['month']}-01")
        row["not_public"] = row["purpose"] == purposes_selectors.NOT_PUBLIC
        row["title"] = titles.get(row["purpose"], "")
    context = {
        "sensor": sensor,
        "purposes": purposes_selectors.sensor_purposes(sensor_ids=[sensor.pk])[sensor.pk],
        "accesses": accesses,
        "access_months": ACCESS_MONTHS,
        "placements": selectors.sensor_placements(sensor=sensor),
        "retention_days": sensor.raw_data_retention_hours / 24,
    }
    return render(request, "web/register/sensor.html", context)


def dashboard_strings() -> dict:
    """The words the dashboard's script shows, in the page's language ({name}: filled in by the script)."""
    return {
        "levels": {
            "green": _("green: room to move"),
            "yellow": _("yellow: busy"),
            "orange": _("orange: crowded"),
            "red": _("red: very crowded"),
        },
        "busyness": {
            "quieter": _("quieter than usual"),
            "usual": _("as busy as usual"),
            "busier": _("busier than usual"),
            "much_busier": _("much busier than usual"),
        },
        "noLevel": _("crowding level unknown"),
        "noData": _("no figures in the last 24 hours"),
        "withheld": _("withheld (fewer than {k} people)"),
        "noValue": _("no data"),
        "count": _("People passing per 15 minutes"),
        "usual": _("Usual: median of the {weeks} previous weeks"),
        "forecast": _("Forecast"),
        "people": _("people"),
        "loading": _("Loading the figures…"),
        "period": _("Figures from {from} to {to}."),
        "error": _("The figures could not be loaded: {detail}"),
        "forecastError": _("The forecast could not be loaded: {detail}"),
        "noAnswer": _("the platform did not answer."),
        "noFigures": _("There are no figures for the last 24 hours in any area."),
        "chartTitle": _("{area}: the last 24 hours and the next"),
        "chartLabel": _(
            "Chart of the people passing in {area} per 15 minutes, the usual number and the forecast; "
            "the numbers are in the table below."
        ),
        "events": _("The forecast includes events in the event calendar."),
    }


def dashboard(request):
    """How busy the city centre is, per area: read in the browser from the indicator API, under a public purpose
    the page names (settings.DASHBOARD_PURPOSE), as anyone may read it."""
    sources = web_selectors.dashboard_sources(purpose_code=settings.DASHBOARD_PURPOSE)
    counts = sources.counts if sources else None
    context = {"sources": sources, "counts": counts, "purpose_code": settings.DASHBOARD_PURPOSE}
    if counts is not None:
        context.update(
            areas=[
                {"id": area.pk, "name": area.name, "geometry": area.geometry}
                for area in counts.areas.order_by("name", "pk")
            ],
            strings=dashboard_strings(),
            values_url=reverse("datasets-api:indicator-values", kwargs={"code": "CODE"}),
            purpose_url=reverse("purposes-api:public-purpose-detail", kwargs={"code": sources.purpose.code}),
        )
    return render(request, "web/dashboard.html", context)
