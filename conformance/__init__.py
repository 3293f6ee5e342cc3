"""Checks any invoice server against `openapi.yaml` and the contract's business rules."""
