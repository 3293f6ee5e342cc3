"""Checks any invoice server against `openapi.yaml` and the contract's business rules.

One concern per module: `profile` (the target's test data), `strategies` (what to send),
`properties`, `stateful` and `schema_run` (what must hold), `expect` (how an answer is judged),
`client` (the one HTTP client), `runner` (how a run goes), `report/` (one handler per format),
`cli` (`invoice-conformance run`), `plugin` and `suite` (the same suite under pytest). The spec
tooling (`invoice-conformance spec …`) lives in `contract.tooling`.
"""
