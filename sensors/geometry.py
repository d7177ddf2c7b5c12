"""GeoJSON polygons in WGS84: validation, geodesic surface and bounding box (shapely and pyproj)."""

import math
from dataclasses import dataclass

from pyproj import Geod
from shapely import prepared
from shapely.geometry import Point, Polygon
from shapely.validation import explain_validity

WGS84 = Geod(ellps="WGS84")
# Positions in all rings of one polygon together. An area is a square, a street, a venue: a detailed
# outline has hundreds of positions, not hundreds of thousands (which take seconds to check and measure).
MAX_POLYGON_POSITIONS = 10_000


class GeometryError(ValueError):
    """A polygon that is not valid GeoJSON in WGS84; `pointer` is relative to the geometry object."""

    def __init__(self, message: str, pointer: str = "") -> None:
        super().__init__(message)
        self.pointer = pointer


@dataclass(frozen=True)
class PolygonFacts:
    surface_m2: float
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


def check_point(longitude: float, latitude: float) -> None:
    if not -180 <= longitude <= 180:
        raise GeometryError(f"Longitude {longitude} is outside WGS84 (-180 to 180).")
    if not -90 <= latitude <= 90:
        raise GeometryError(f"Latitude {latitude} is outside WGS84 (-90 to 90).")


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_position(position, pointer: str) -> None:
    # RFC 7946 3.1.1: longitude, latitude and optionally altitude, all numbers.
    if not isinstance(position, list) or len(position) not in (2, 3) or not all(map(_number, position)):
        raise GeometryError("A position is [longitude, latitude] or [longitude, latitude, altitude].", pointer)
    try:
        check_point(position[0], position[1])
    except GeometryError as error:
        raise GeometryError(str(error), pointer) from None
    if abs(position[1]) == 90:
        raise GeometryError("A polygon cannot touch a pole: its surface there is ambiguous.", pointer)


def polygon_facts(geometry) -> PolygonFacts:
    """Validate a GeoJSON Polygon (closed rings, not self-intersecting, WGS84, at most
    MAX_POLYGON_POSITIONS positions, a surface) and measure it."""
    if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
        raise GeometryError('Must be a GeoJSON object with "type": "Polygon".', "/type")
    rings = geometry.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise GeometryError("Must hold a list of linear rings.", "/coordinates")
    positions = sum(len(ring) if isinstance(ring, list) else 1 for ring in rings)
    if positions > MAX_POLYGON_POSITIONS:
        raise GeometryError(
            f"The polygon has {positions} positions; at most {MAX_POLYGON_POSITIONS} are accepted. Simplify it.",
            "/coordinates",
        )
    for r, ring in enumerate(rings):
        if not isinstance(ring, list) or len(ring) < 4:
            raise GeometryError("A ring needs at least 4 positions (a closed triangle).", f"/coordinates/{r}")
        for p, position in enumerate(ring):
            _check_position(position, f"/coordinates/{r}/{p}")
        if ring[0][:2] != ring[-1][:2]:
            raise GeometryError("The ring is not closed: its last position must equal its first.", f"/coordinates/{r}")
    shell, *holes = [[tuple(position[:2]) for position in ring] for ring in rings]
    polygon = Polygon(shell, holes)
    if not polygon.is_valid:
        raise GeometryError(f"The polygon is not valid: {explain_validity(polygon)}.", "/coordinates")
    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    if max_lon - min_lon >= 180:
        # RFC 7946 3.1.9: such a polygon could mean either side of the globe; a crowd area never does.
        raise GeometryError(
            "The polygon spans 180 degrees of longitude or more, so which side of the globe it encloses is "
            "ambiguous; an area crossing the antimeridian is cut in two (RFC 7946, 3.1.9).",
            "/coordinates",
        )
    surface, _ = WGS84.geometry_area_perimeter(polygon)
    if polygon.area == 0 or round(abs(surface), 2) == 0:
        raise GeometryError("The polygon has no surface (less than 0.01 m²).", "/coordinates")
    return PolygonFacts(abs(surface), min_lon, min_lat, max_lon, max_lat)


def points_inside(geometry: dict, points: dict) -> set:
    """The keys of `points` ({key: (longitude, latitude)}) that lie in the stored polygon `geometry`, its
    boundary included (a gate on the edge of a square counts for it) and its holes excluded."""
    shell, *holes = [[tuple(position[:2]) for position in ring] for ring in geometry["coordinates"]]
    polygon = prepared.prep(Polygon(shell, holes))
    return {key for key, (lon, lat) in points.items() if polygon.covers(Point(lon, lat))}
