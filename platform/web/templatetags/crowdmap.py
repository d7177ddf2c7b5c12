"""The base map's attributes and note, for every page with a map (web/static/web/map.js reads them)."""

import json

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.utils.html import format_html

register = template.Library()

# Natural Earth land (world-atlas), coarse to fine: [from zoom, file]. The finer scales are fetched only when
# the map is zoomed in that far and the tiles did not load (gzip: 21 kB, 170 kB, 775 kB).
LAND_SCALES = [(0, "land-110m.json"), (4, "land-50m.json"), (8, "land-10m.json")]


@register.simple_tag
def map_attributes() -> str:
    """`<div id="..." {% map_attributes %}>`: the tiles, their attribution and the fallback land's files."""
    land = [[zoom, static(f"vendor/world-atlas/{name}")] for zoom, name in LAND_SCALES]
    return format_html(
        'data-tiles="{}" data-attribution="{}" data-land="{}"',
        settings.MAP_TILE_URL,
        settings.MAP_TILE_ATTRIBUTION,
        json.dumps(land),
    )


@register.inclusion_tag("web/map_note.html")
def map_note(map_id: str) -> dict:
    """The words under a map about its background: none configured (shown), or could not load (shown by map.js)."""
    return {"map_id": map_id, "configured": bool(settings.MAP_TILE_URL)}
