"""Content negotiation: DRF's, except that `?format=` given empty is refused like an unknown format (404)."""

from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        name = self.settings.URL_FORMAT_OVERRIDE
        if format_suffix is None and name and request.query_params.get(name, None) == "":
            # DRF takes an empty format for no format at all; the document lists the formats there are.
            raise NotFound(f"Name a format with `{name}=`, or leave the parameter out.")
        return super().select_renderer(request, renderers, format_suffix)
