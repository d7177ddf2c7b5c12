"""Representations beyond JSON: GeoJSON (RFC 7946) and CSV, for lists and single objects."""

import re

import orjson
from rest_framework import renderers
from rest_framework.settings import api_settings
from rest_framework.utils import encoders
from rest_framework_csv.renderers import PaginatedCSVRenderer


def browsable() -> list[type[renderers.BaseRenderer]]:
    """The browsable API's renderer where the settings have it (DEBUG on only), else nothing."""
    return [r for r in api_settings.DEFAULT_RENDERER_CLASSES if issubclass(r, renderers.BrowsableAPIRenderer)]


class GeoJSONRenderer(renderers.JSONRenderer):
    """Renders serialized rows as Features; the view names the geometry field (`geojson_geometry_field`).

    Lists become a FeatureCollection whose `links` carry the page links (OGC API style).
    """

    media_type = "application/geo+json"
    format = "geojson"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:  # no content (204), e.g. after a DELETE
            return b""
        renderer_context = renderer_context or {}
        response = renderer_context.get("response")
        if response is not None and response.status_code >= 400:
            return super().render(data, accepted_media_type, renderer_context)
        field = getattr(renderer_context.get("view"), "geojson_geometry_field", "geometry")
        if isinstance(data, dict) and "results" in data:
            links = [
                {"rel": rel, "href": data[rel], "type": self.media_type}
                for rel in ("next", "previous")
                if data.get(rel)
            ]
            body = {
                "type": "FeatureCollection",
                "features": [self.feature(row, field) for row in data["results"]],
            }
            if links:
                body["links"] = links
        elif isinstance(data, list):
            body = {"type": "FeatureCollection", "features": [self.feature(row, field) for row in data]}
        else:
            body = self.feature(data, field)
        return super().render(body, accepted_media_type, renderer_context)

    @staticmethod
    def feature(row: dict, field: str) -> dict:
        properties = dict(row)
        geometry = properties.pop(field, None)
        return {"type": "Feature", "id": properties.get("id"), "geometry": geometry, "properties": properties}


# OWASP "CSV Injection": a cell that starts with one of these is read as a formula by spreadsheets.
# (defusedcsv leaves TAB and CR alone, which OWASP lists, and adds '|' and '%': hence our own rule.)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def csv_neutralise(cell):
    """A CSV cell that no spreadsheet will evaluate: text starting with a formula trigger gets a leading `'`.

    Numbers (and text that is exactly a signed number, such as "-1.5") stay as they are: they cannot be formulas.
    """
    if not isinstance(cell, str) or not cell.startswith(FORMULA_TRIGGERS) or PLAIN_NUMBER.fullmatch(cell):
        return cell
    return "'" + cell


def _no_rows_or_problem(data, renderer_context) -> bytes | None:
    """What a tabular renderer answers before it looks at rows: nothing for 204, JSON for an error
    (errors stay problem+json whatever was negotiated); None when there are rows to render."""
    if data is None:  # no content (204)
        return b""
    response = (renderer_context or {}).get("response")
    if response is not None and response.status_code >= 400:
        return renderers.JSONRenderer().render(data)
    return None


class CSVRenderer(PaginatedCSVRenderer):
    """CSV of a (paginated) list; geometry objects are left out, lists of values joined with ';'."""

    results_field = "results"
    format = "csv"

    def render(self, data, media_type=None, renderer_context=None, writer_opts=None):
        if (early := _no_rows_or_problem(data, renderer_context)) is not None:
            return early
        renderer_context = renderer_context or {}
        if isinstance(data, dict) and self.results_field not in data:
            data = {self.results_field: [data]}
        # No rows: an empty *text*, because DRF drops the Content-Type of an empty *bytes* body, and the
        # contract says text/csv whatever the number of rows.
        return super().render(data, media_type, renderer_context, writer_opts) or ""

    def tablize(self, data, header=None, labels=None):
        # Columns in the serializer's field order (the library sorts them alphabetically).
        if not header and data:
            header = list(dict.fromkeys(key for row in self.flatten_data(data) for key in row))
        for row in super().tablize(data, header=header, labels=labels):
            yield [csv_neutralise(cell) for cell in row]

    def flatten_item(self, item):
        if isinstance(item, dict):
            item = {key: value for key, value in item.items() if not (isinstance(value, dict) and "type" in value)}
        if isinstance(item, list) and all(not isinstance(value, dict | list) for value in item):
            return {"": ";".join("" if value is None else str(value) for value in item)}
        return super().flatten_item(item)


class NDJSONRenderer(renderers.BaseRenderer):
    """Newline-delimited JSON: one row of `results` per line (errors stay problem+json)."""

    media_type = "application/x-ndjson"
    format = "ndjson"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if (early := _no_rows_or_problem(data, renderer_context)) is not None:
            return early
        rows = data.get("results", []) if isinstance(data, dict) else data
        encoder = renderers.JSONRenderer()
        # No rows: empty text, not bytes, so that DRF keeps the Content-Type (see CSVRenderer.render).
        return b"".join(encoder.render(row) + b"\n" for row in rows) or ""


class FastJSONRenderer(renderers.JSONRenderer):
    """JSON through orjson (datetimes in RFC 3339 natively), for responses of thousands of small cells, where the
    standard encoder's per-value callbacks cost more than the query; anything orjson does not know (lazy
    translations, decimals) goes through DRF's own encoder, so the output is the same JSON."""

    _fallback = encoders.JSONEncoder()

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=self._fallback.default, option=orjson.OPT_UTC_Z)
