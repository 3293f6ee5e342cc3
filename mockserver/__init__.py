"""A stateful mock of the Exante invoice API, served from `openapi.yaml` by Connexion.

`mockserver.http` is the HTTP side (uvicorn's protocol, the one Connexion app and the mock's
stages in it, the handlers); the modules beside it are the invoice rules and the stored state,
which import no HTTP library; `__main__` is the `invoice-mock` CLI.
"""
