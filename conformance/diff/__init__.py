"""`invoice-conformance diff`: the same stateful sequences sent to two servers, answers compared.

The way of one run, one module each:

- `pairing`   which value of the candidate stands for which of the reference: the two profiles'
              data by position, and what each server generated (uids, numbers per owner) by role.
- `compare`   two answers field by field; what the precision table leaves open is not compared,
              each tolerance citing its row (`TOLERATED`).
- `lockstep`  the Hypothesis state machine: each step's request goes to both servers (translated
              for the candidate), and a difference not reported yet raises `Divergent`.
- `cli`       the `diff` sub-command: rounds until nothing new diverges, the report, the exit code.

It imports the kit (strategies, client, report) and never the mock.
"""
