"""The robustness family: it fails against a server that answers 5xx to input outside the schema,
passes against a clean one (the second server), and, once the mock's 500s are fixed, the mock."""

from __future__ import annotations

import pytest

from tests.conformance.kit import FIXED_SEEDS, names, run_kit

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("upstream", ["faulty_url", "faulty_second_url"])
def test_every_robustness_property_fails_against_a_5xx_ing_wrapper(upstream, request):
    base_url = request.getfixturevalue(upstream)
    outcome, report, _ = run_kit(
        f"{base_url}/crashes-on-odd-input", names(robustness=True), max_examples=10, seed=FIXED_SEEDS[0]
    )
    assert outcome["failed"] == names(robustness=True), report
    assert "HTTP 500 (a server error)" in report


@pytest.mark.parametrize("seed", FIXED_SEEDS)
def test_the_robustness_family_passes_against_a_clean_server(second_url, seed):
    outcome, report, _ = run_kit(second_url, names(robustness=True), max_examples=50, seed=seed)
    assert outcome["exit_code"] == 0, report


@pytest.mark.parametrize("seed", FIXED_SEEDS)
def test_the_robustness_family_passes_against_the_mock(mock_url, seed):
    outcome, report, _ = run_kit(mock_url, names(robustness=True), max_examples=50, seed=seed)
    assert outcome["exit_code"] == 0, report
