"""The fixtures of other test packages that tests here reuse: the sensors' city and vendor, the purposes' world."""

from tests.purposes.conftest import world  # noqa: F401
from tests.sensors.conftest import city, register, sensor_payload, steward_client, vendor, vendor_client  # noqa: F401
