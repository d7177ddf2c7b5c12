"""Template helpers for the register pages: pick the text of the current language."""

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def localized(obj, field: str) -> str:
    """`{{ sensor_type|localized:"name" }}` -> name_nl when the page is Dutch, else name_en."""
    language = (get_language() or "en")[:2]
    return getattr(obj, f"{field}_{language}", None) or getattr(obj, f"{field}_en", "")


@register.filter
def measure_labels(codes) -> str:
    """Measure codes -> their labels in the current language, comma-separated."""
    from sensors.models import Measure

    return ", ".join(str(Measure(code).label) if code in Measure.values else code for code in codes)
