"""Organisations, memberships with roles, and API keys."""
