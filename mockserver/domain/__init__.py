"""The mock's domain: the invoicing API's business rules over plain data, and nothing of HTTP.

It owns what an invoice is (`rules.Invoice`, its `Line`s and `Money`), how one is created, read,
listed, updated, bulk-changed and given line items (`rules`, `updates`, `line_items`), the
in-memory store those changes are made in, all or nothing (`invoice_store`: a `Draft` under one
lock), the test world it is checked against (`fixtures`, read through `contract.world`) and the
invoices a world brings (`seeds`), each session's clock (`clock`), rate-limit windows (`limits`)
and the refusals a rule raises (`errors`). Why apart: every rule can be tested, and reused by
another front end, without a server. It may import `contract` and the standard library only:
never `mockserver.http`, `mockserver.store`, nor any HTTP library (import-linter holds this,
pyproject.toml).
"""
