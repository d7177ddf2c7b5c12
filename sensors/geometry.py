"""GeoJSON polygons in WGS84: validation, geodesic surface and bounding box (shapely and pyproj)."""

from dataclasses import dataclass

from pyproj import Geod
from shapely.geometry import Polygon, shape
from shapely.validation import explain_validity

WGS84 = Geod(ellps="WGS84")


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


def polygon_facts(geometry) -> PolygonFacts:
    """Validate a GeoJSON Polygon (closed rings, not self-intersecting, WGS84) and measure it."""
    if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
        raise GeometryError('Must be a GeoJSON object with "type": "Polygon".', "/type")
    rings = geometry.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise GeometryError("Must hold a list of linear rings.", "/coordinates")
    for r, ring in enumerate(rings):
        if not isinstance(ring, list) or len(ring) < 4:
            raise GeometryError("A ring needs at least 4 positions (a closed triangle).", f"/coordinates/{r}")
        for p, position in enumerate(ring):
            if (
                not isinstance(position, list)
                or len(position) < 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position[:2])
            ):
                raise GeometryError("A position is [longitude, latitude].", f"/coordinates/{r}/{p}")
            try:
                check_point(position[0], position[1])
            except GeometryError as error:
                raise GeometryError(str(error), f"/coordinates/{r}/{p}") from None
        if ring[0][:2] != ring[-1][:2]:
            raise GeometryError("The ring is not closed: its last position must equal its first.", f"/coordinates/{r}")
    polygon: Polygon = shape(geometry)
    if not polygon.is_valid:
        raise GeometryError(f"The polygon is not valid: {explain_validity(polygon)}.", "/coordinates")
    if polygon.area == 0:
        raise GeometryError("The polygon has no surface.", "/coordinates")
    surface, _ = WGS84.geometry_area_perimeter(polygon)
    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    return PolygonFacts(abs(surface), min_lon, min_lat, max_lon, max_lat)
