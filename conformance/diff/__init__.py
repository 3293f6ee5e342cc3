"""`invoice-conformance diff`: the same stateful sequences sent to two servers, answers compared.

The way of one run, one module each:

- `pairing`  which value of the candidate stands for which of the reference: the two profiles'
             data by position, and what each server generated (uids, numbers) by role.
- `compare`  two answers field by field; what the precision table leaves open is not compared,
             each tolerance citing its row (`TOLERATED`).

Not written yet (issue 20): `lockstep`, the Hypothesis state machine sending every request to both
servers, and `cli`, the `diff` sub-command (rounds until nothing new diverges, report, exit code).

It imports the kit (strategies, client, report) and never the mock.
"""
