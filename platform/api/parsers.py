"""Request body parsers, and the checks every body passes whichever parser reads it.

PostgreSQL text and jsonb cannot hold a NUL character (U+0000), and deeply nested JSON exhausts the
stack of whatever walks it next (a validator, a serializer, the database driver). So every parser the
API uses refuses both, with a pointer to where they are, before any view sees the body:

- JSON (`JSONParser`, the only parser of DRF bodies, and `check_document` for views that read JSON
  themselves): no string or key holds NUL, nothing is nested deeper than MAX_JSON_DEPTH;
- CSV (`CSVTextParser`, and `csv_rows` for views that read CSV themselves): no NUL, no cell over the
  csv module's field limit (CSV_MAX_CELL characters), each refusal naming its line.

Views that take the body as bytes (`RawBodyParser`) must run these checks themselves; tests/robustness
checks that every routed view's parsers come from this module.
"""

import csv
import io

import orjson
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from api.problems import escape_pointer_token

# Deepest nesting of arrays and objects a JSON body may have (the top-level value is depth 1). The
# deepest body the API defines is a record inside {"records": [...]} with a GeoJSON polygon (6 levels).
MAX_JSON_DEPTH = 32
# The csv module's own limit on one cell (characters): 128 KiB.
CSV_MAX_CELL = csv.field_size_limit()

NUL = "\x00"


class BodyRefused(Exception):
    """A body no endpoint can use (400): its problem `code`, and where: a JSON pointer, or a line."""

    def __init__(self, detail: str, *, code: str, pointer: str | None = None, line: int | None = None):
        super().__init__(detail)
        self.detail, self.code, self.pointer, self.line = detail, code, pointer, line

    def as_error(self) -> dict:
        error = {"pointer": self.pointer or "", "detail": self.detail, "code": self.code}
        if self.line is not None:
            error["line"] = self.line
        return error


def null_character(pointer: str, line: int | None = None) -> BodyRefused:
    where = f"line {line}" if pointer == "" and line is not None else (pointer or "the body")
    return BodyRefused(
        f"A NUL character (U+0000) at {where}: no text can hold it.", code="null_character", pointer=pointer, line=line
    )


def check_document(document, *, prefix: str = "", line: int | None = None, strings: bool = True) -> None:
    """Refuse a parsed JSON document with NUL in a string or key, or nested deeper than MAX_JSON_DEPTH.

    Iterative, so that checking a deep document cannot itself exhaust the stack. `prefix` is the pointer
    of `document` within the body (e.g. `/records/3` for one NDJSON line). `strings=False` skips the NUL
    check, for a body known to hold none (`loads` knows: JSON can only write NUL as an escape)."""
    # A node is (value, parent node, token, depth): pointers are built only for what is refused.
    stack = [(document, None, None, 1)]
    while stack:
        node = stack.pop()
        value, _, _, depth = node
        if isinstance(value, str):
            if NUL in value:
                raise null_character(_pointer(node, prefix), line)
            continue
        if not isinstance(value, dict | list):
            continue  # a scalar at the top
        if depth > MAX_JSON_DEPTH:
            raise BodyRefused(
                f"JSON nested deeper than {MAX_JSON_DEPTH} levels at {_pointer(node, prefix) or 'the top'}.",
                code="nesting_too_deep",
                pointer=_pointer(node, prefix),
                line=line,
            )
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for token, item in items:
            if strings and isinstance(token, str) and NUL in token:
                raise null_character(_pointer((item, node, token, depth + 1), prefix), line)
            if isinstance(item, dict | list) or (strings and isinstance(item, str)):
                stack.append((item, node, token, depth + 1))


def _pointer(node, prefix: str) -> str:
    tokens = []
    while node[1] is not None:
        tokens.append(escape_pointer_token(node[2]))
        node = node[1]
    return prefix + "".join(f"/{token}" for token in reversed(tokens))


def loads(body: bytes | str, *, prefix: str = "", line: int | None = None):
    """Parse JSON strictly (UTF-8, no NaN, no lone surrogates, integers of 64 bits) and check it: raises
    orjson.JSONDecodeError for text that is not JSON, BodyRefused for JSON no endpoint can use. A leading
    UTF-8 byte order mark is ignored (RFC 8259 allows it; CSV bodies with one are read too)."""
    if body[:3] == b"\xef\xbb\xbf" or body[:1] == "\ufeff":
        body = body[3:] if isinstance(body, bytes) else body[1:]
    document = orjson.loads(body)
    if isinstance(document, dict | list):
        escape = b"\\u0000" if isinstance(body, bytes) else "\\u0000"
        check_document(document, prefix=prefix, line=line, strings=escape in body)
    elif isinstance(document, str) and NUL in document:
        raise null_character(prefix, line)
    return document


def check_text(text: str, *, first_line: int = 1) -> None:
    """Refuse text (a CSV body) holding NUL, naming the line it is on."""
    position = text.find(NUL)
    if position >= 0:
        raise null_character("", first_line + text.count("\n", 0, position))


def csv_rows(text: str):
    """(reader, rows): a csv.DictReader over checked text, and its rows as (line, row) pairs; a cell over
    CSV_MAX_CELL characters, a row with more cells than the header, or any other csv error, raises
    BodyRefused naming the line. A row with fewer cells than the header has its missing cells empty."""
    check_text(text)
    reader = csv.DictReader(io.StringIO(text), restval="")
    try:
        header = reader.fieldnames or []  # reads the header row, where the first csv error may be
    except csv.Error as error:
        raise _csv_error(error, reader.line_num + 1) from None
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:  # DictReader would keep the last cell of each: which one the sender meant is unknowable
        names = ", ".join(repr(name) for name in twice)
        raise BodyRefused(f"The header names {names} more than once.", code="parse_error", pointer="", line=1)

    def rows():
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise _csv_error(error, reader.line_num + 1) from None
            if None in row:  # DictReader's key for the cells beyond the header
                line = reader.line_num
                detail = f"Line {line} has more cells than the header has columns."
                raise BodyRefused(detail, code="parse_error", pointer="", line=line)
            yield reader.line_num, row

    return reader, rows()


def _csv_error(error: csv.Error, line: int) -> BodyRefused:
    detail = str(error)
    if "field larger than field limit" in detail:
        detail = f"A cell is longer than {CSV_MAX_CELL} characters."
    return BodyRefused(f"Line {line} is not readable CSV: {detail}", code="parse_error", pointer="", line=line)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with orjson (strict UTF-8, no NaN or lone surrogates) and `check_document`."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        try:
            return loads(data)
        except orjson.JSONDecodeError as error:
            raise ParseError(f"JSON parse error - {error}") from None


class CSVTextParser(parsers.BaseParser):
    """A `text/csv` body as text (UTF-8, with or without a byte-order mark), checked by `check_text`;
    the view reads the rows with `csv_rows`."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ParseError(f"The CSV is not UTF-8: {error}") from None
        check_text(text)
        return text


class RawBodyParser(parsers.BaseParser):
    """Declares a media type whose body the view reads from `request.body` itself (for content
    negotiation and the OpenAPI document). The view checks it: `loads`, `check_document` or `csv_rows`."""

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""


def raw_parser(media: str) -> type[RawBodyParser]:
    return type(f"Raw{media.split('/')[-1].title().replace('-', '')}Parser", (RawBodyParser,), {"media_type": media})
