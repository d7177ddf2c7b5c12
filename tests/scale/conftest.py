"""The purpose-binding world (a city, its dataset with records, a collection purpose) for the scale tests."""

from tests.purposes.conftest import world  # noqa: F401 (a fixture)
