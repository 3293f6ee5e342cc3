"""The validating proxy (`python -m mockserver --proxy URL`): the real service, checked.

A frontend team points its app at the proxy instead of the real server. Every request goes on
to the upstream unchanged (`upstream.py`), and the exchange is checked against the contract the
proxy was started with (contract/exchanges.py: schema, documented status, envelope, the
precision table's rules one answer shows). The client gets the upstream's answer unchanged plus
`X-Contract-Violations: N`; each violation goes to the log and to `GET /__mock/violations`
(`violations.py`, bounded: the oldest are dropped and counted). An upstream that is down, slow or
answers something that is not JSON is a 502/504 in the API's envelope naming it and the cause.
`--record FILE` keeps what the upstream answered as a world file (`recorder.py`, `recording.py`).

It imports the contract and the mock's HTTP edge (`mockserver.http.answers` for its own envelope
answers); nothing imports it but `__main__`.
"""
