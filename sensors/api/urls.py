"""Routes of the sensors API and the public register."""

from rest_framework.routers import SimpleRouter

from sensors.api.views import AreaViewSet, PublicSensorViewSet, SensorTypeViewSet, SensorViewSet

app_name = "sensors-api"

router = SimpleRouter()
router.register("sensor-types", SensorTypeViewSet, basename="sensor-type")
router.register("sensors", SensorViewSet, basename="sensor")
router.register("areas", AreaViewSet, basename="area")
router.register("public/sensors", PublicSensorViewSet, basename="public-sensor")

urlpatterns = router.urls
