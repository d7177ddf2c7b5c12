"""The body checks hold for views yet to be written: every routed view parses its body with
api.parsers (which refuses NUL, deep nesting and unreadable CSV), or takes it raw and checks it itself."""

from api import parsers
from tests.api.test_access_audit import api_views


def parser_classes_of(callback, cls):
    return getattr(callback, "initkwargs", {}).get("parser_classes", getattr(cls, "parser_classes", []))


def test_every_view_parses_its_body_with_the_checked_parsers():
    checked = (parsers.JSONParser, parsers.CSVTextParser)
    routes = 0
    for route, callback, cls in api_views():
        if cls is None:
            continue
        routes += 1
        for parser in parser_classes_of(callback, cls):
            assert issubclass(parser, checked) or issubclass(parser, parsers.RawBodyParser), (route, parser)
    assert routes > 20
