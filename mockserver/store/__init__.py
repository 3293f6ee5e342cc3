"""The mock's state over time: sessions, and the state file that keeps them across restarts.

It owns the sessions (`state`: each `X-Mock-Session` its own world, store, clock and rate
windows), the state file's format (`persistence`: SQLite, WAL, `synchronous=FULL`), its group
commit on a writer thread (`journal`), its opening and restore at start (`state_file`) and the
migration of older files (`migrations`). Why apart from the domain: what is kept and how it is
made durable changes for reasons of its own (formats, crash safety), while the rules stay.
It may import `mockserver.domain` and `contract`: never `mockserver.http` nor an HTTP library.
"""
