"""Purposes, approvals and DPIA records, grants, the purpose guard and the access log."""
