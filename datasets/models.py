"""Models of datasets (filled by the issues that build them)."""
