"""Models of sensors (filled by the issues that build them)."""
