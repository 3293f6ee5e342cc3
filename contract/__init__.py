"""The contract shared by the mock and the conformance kit: `openapi.yaml` and the test world.

- `contract.spec`: the spec as Python data (load, pointers, `$ref` inlining, OAS 3.0 → JSON Schema,
  examples, compiled validators). Everything that knows a schema, a default or an enum asks it.
- `contract/fixtures/default.yaml`: the shared test world (tokens, organizations, parties,
  documents, blueprints) — the mock's world and the kit's default profile. Its format is declared
  once in `contract/fixtures/world.schema.yaml` and read by `contract.worldfile` (strict for the
  mock, lenient for a real server's profile); `contract.world` is the strict reading as typed data.
- `contract.tooling`: spec tooling for spec authors (`invoice-conformance spec check|diff`).

Neither `mockserver` nor `conformance` is imported from here: both depend on this package, and
`conformance` never imports `mockserver`, so checking a real server does not drag in the mock.
"""
