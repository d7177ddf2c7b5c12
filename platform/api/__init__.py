"""Shared API machinery: fail-closed base views, problem+json, pagination, throttling, OpenAPI hooks."""
