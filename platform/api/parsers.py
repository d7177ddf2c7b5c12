"""Parsers for bodies DRF does not read itself."""

import codecs

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class CSVTextParser(BaseParser):
    """A `text/csv` body as text (UTF-8, with or without a byte-order mark); the view parses the rows."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        try:
            return codecs.decode(data, "utf-8-sig")
        except UnicodeDecodeError as error:
            raise ParseError(f"The CSV is not UTF-8: {error}") from None
