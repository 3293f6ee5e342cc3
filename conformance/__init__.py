"""Checks any invoice server against `openapi.yaml` and the contract's business rules.

One concern per module: `profile` (the target's test data), `strategies` (what to send),
`properties/` (what must hold, one module per rule family) and `schema_run` (Schemathesis's
checks), `expect` (how an answer is judged), `client` (the one HTTP client) and `rawhttp` (bytes
httpx will not send), `runner` (how a run goes), `report/` (one handler per format),
`cli` (`invoice-conformance run`), `plugin` and `suite` (the same suite under pytest). The spec
tooling (`invoice-conformance spec …`) lives in `contract.tooling`.
"""
