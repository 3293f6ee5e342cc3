"""No false alarm on a correct server that makes the other legal choices: the kit passes the
independent second server (tests/second_server), which takes the other reading of every open row
of the precision table, under fixed seeds and one random seed (printed on failure)."""

from __future__ import annotations

import pytest

from tests.conformance.kit import FIXED_SEEDS, RANDOM_SEED, lifecycle_names, run_kit

pytestmark = pytest.mark.e2e


# 1127290852: a random seed that once made the kit send the unknown field "\n", which the second
# server named as "/" (it parsed the name out of the validator's message); kept as a regression.
@pytest.mark.parametrize("seed", [FIXED_SEEDS[0], 1127290852])
def test_the_kit_passes_the_second_server(second_url, seed):
    outcome, report, _ = run_kit(second_url, max_examples=10, seed=seed)
    assert outcome["exit_code"] == 0, report
    assert not outcome["not_run"], report


def test_the_kit_passes_the_second_server_under_a_random_seed(second_url):
    print(f"random seed: {RANDOM_SEED} (reproduce: --seed {RANDOM_SEED} --max-examples 10)")
    outcome, report, _ = run_kit(second_url, max_examples=10, seed=RANDOM_SEED)
    assert outcome["exit_code"] == 0, f"seed {RANDOM_SEED}\n{report}"


def test_a_create_and_read_only_second_server_gets_not_run_for_the_lifecycle(second_create_read_url):
    """The second server without the lifecycle (no update, bulk, delete, line items, scopes or per-key
    limits): every lifecycle property is not run with the probe's reason, everything else passes."""
    outcome, report, _ = run_kit(second_create_read_url, max_examples=5, seed=FIXED_SEEDS[0])
    assert outcome["exit_code"] == 0, report
    assert set(outcome["not_run"]) == set(lifecycle_names()), report
    assert "does not serve update_invoice" in report
