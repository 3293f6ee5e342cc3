"""The mock's HTTP side: everything that plugs into Connexion, from the socket to the JSON answer.

It owns the way a request takes: uvicorn's protocol with the envelope's refusals (`protocol`),
the app factory (`app`), the one Connexion app and its middleware list (`wiring`), the mock's
stages in that list (`stages`: exact paths, `Prefer` scenarios, key scopes and rate limits, the
415, the handlers), what it gives Connexion through its public extension points (`security`: the
bearer handler of `security_map`; `validators`: the `validator_map` classes over `validation`'s
compiled validators), the outer layers (`layers`: CORS, the envelope; `request_log`; `acks`:
durable answers), the envelope (`error_handlers`; `answers`, which writes every JSON answer that
reaches the app, while `protocol` writes the few refused before there is one), the operation
handlers (`handlers`, `control` and `control.yaml`, `call`, `runtime`, `specs`) and the response
shapes (`views`). It may import Connexion, Starlette and uvicorn (nothing outside this package
does: import-linter), `mockserver.store`, `mockserver.domain` and `contract`; nothing of
`mockserver` outside it imports it, except the CLI (`mockserver.__main__`).
"""
