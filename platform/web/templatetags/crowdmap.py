"""The base map's attributes and note, for every page with a map (web/static/web/map.js reads them)."""

import json

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.translation import gettext

register = template.Library()

# Natural Earth land (world-atlas), coarse to fine: [from zoom, file]. The finer scales are fetched only when
# the map is zoomed in that far and the tiles did not load (gzip: 21 kB, 170 kB, 775 kB).
LAND_SCALES = [(0, "land-110m.json"), (4, "land-50m.json"), (8, "land-10m.json")]


@register.simple_tag
def map_attributes() -> str:
    """`<div id="..." {% map_attributes %}>`: the tiles, their attribution, the fallback land's files, and the
    words of Leaflet's own controls in the page's language (Leaflet has them in English only)."""
    land = [[zoom, static(f"vendor/world-atlas/{name}")] for zoom, name in LAND_SCALES]
    return format_html(
        'data-tiles="{}" data-attribution="{}" data-land="{}" data-zoom-in-title="{}" data-zoom-out-title="{}"'
        ' data-close-label="{}" data-leaflet-title="{}"',
        settings.MAP_TILE_URL,
        settings.MAP_TILE_ATTRIBUTION,
        json.dumps(land),
        gettext("Zoom in"),
        gettext("Zoom out"),
        gettext("Close the pop-up"),
        gettext("A JavaScript library for interactive maps"),
    )


@register.inclusion_tag("web/map_note.html")
def map_note(map_id: str) -> dict:
    """The words under a map about its background: none configured (shown), or could not load (shown by map.js)."""
    return {"map_id": map_id, "configured": bool(settings.MAP_TILE_URL)}
