"""What must hold: one named property per rule of the contract, grouped by rule family.

Each property is a Hypothesis test against the live server, driven by the target profile
(`conformance.strategies`) and judged by `conformance.expect`. Its docstring says what must hold
and, in its `Rule:` paragraph, where the contract states it; `prop(..., rows=...)` names the rows
of the precision table (openapi.yaml info.description) it follows. Importing this package
registers every family, in the order below.
"""

from conformance.properties import (  # noqa: F401 - importing registers the properties
    auth,
    bulk,
    concurrency,
    creation,
    deleting,
    errors,
    fields,
    limits,
    line_items,
    line_limits,
    listing,
    machine,
    money,
    numbers,
    parties,
    reading,
    robustness,
    scopes,
    updating,
)
