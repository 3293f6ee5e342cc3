"""A stateful mock of the Exante invoice API, served by Connexion from `openapi.yaml`."""
