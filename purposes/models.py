"""Models of purposes (filled by the issues that build them)."""
