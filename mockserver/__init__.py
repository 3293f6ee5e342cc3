"""A stateful mock of the Exante invoice API: Connexion serves the spec it is started with.

Three packages, in the order a request meets them: `mockserver.http` (uvicorn's protocol, the one
Connexion app and the mock's stages in it, the handlers and the answers), `mockserver.store`
(the sessions and the state file) and `mockserver.domain` (the invoicing rules over plain data).
Imports go that way only (import-linter); `__main__` is the `invoice-mock` CLI. With `--proxy
URL`, `mockserver.proxy` serves instead: the real service behind it, each exchange checked
against the same spec (it borrows the HTTP edge's envelope writer, nothing else of the mock).
"""
