"""Deliberately faulty servers: a correct server, wrapped in ASGI middleware that breaks one rule.

The wrappers wrap any ASGI upstream: `build_app()` puts each over its own instance of the mock,
`build_app_over_second_server()` over the independent second server (tests/second_server), and
serves every variant from one process under its own path prefix (`/<variant>/api/invoices`), so
the kit can be pointed at `http://host:port/<variant>` and must find the fault. `FAULTS` says, for
each variant, which rule it breaks and which property must name it.

The package: `base` (the buffered request and answer, `Fault`, the helpers a wrapper uses to send
requests of its own), `create_read` (the wrappers of the create-and-read contract), `lifecycle`
(update, bulk update, bulk delete, line items, scopes), `precision` (each fixed precision row
flipped to its other reading), and here the table of every variant.

Run by hand: `python -m uvicorn tests.conformance.faults:build_app --factory --port 8081`.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from tests.conformance.faults.base import (
    Fault,
    envelope,
    respond,
)
from tests.conformance.faults.create_read import (
    CheckThenInsert,
    DefaultFilterMiscounted,
    DuplicateAccepting,
    OwnPageSizeDefault,
    PageOverlap,
    PagingClamped,
    SequenceRace,
    UnknownReferenceDropped,
    auth_skipped,
    content_type_ignored,
    crashes_on_due_date,
    crashes_on_odd_input,
    date_not_echoed,
    days_not_clamped,
    default_not_applied,
    discount_ignored,
    error_status_code_400,
    errors_as_text_plain,
    fields_as_map,
    forgets_invoices,
    generated_number_reused,
    has_comments_always,
    leaks_invoices,
    list_drops_newest,
    list_oldest_first,
    list_query_error_as_400,
    mixes_up_invoices,
    no_challenge,
    numbers_case_insensitive,
    numbers_unique_across_owners,
    owner_not_checked,
    page_past_end_refused,
    parties_swapped,
    party_refusal_as_422,
    problem_json,
    remember_creators,
    small_body_limit,
    total_as_string,
    total_pages_floored,
    unknown_fields_ignored,
)
from tests.conformance.faults.lifecycle import (
    CREATE_READ_ONLY,
    BulkAnswerReversed,
    BulkAppliesGoodItems,
    BulkDeleteOneByOne,
    BulkNotAtomic,
    BulkUpdateChecksExistenceOnly,
    DeletedNumberTaken,
    DeleteListed,
    DiscountCapped,
    LineBatchPartlyApplied,
    LineDeleteMoneyStale,
    LineMoneyStale,
    OwnNumberConflicts,
    ReadCacheNotInvalidated,
    RefusedUpdateHalfApplied,
    SoftDelete,
    UpdateNumberRace,
    bulk_truncated,
    cents_through_double,
    changed_moves_to_top,
    fields_replaced,
    line_batch_truncated,
    lines_keep_their_currency,
    no_retry_after,
    paid_date_marks_paid,
    quantity_maximum_exclusive,
    read_only_key_writes,
    unit_price_as_major_units,
    unit_price_clamped,
    update_clears_omitted,
    update_ignores_status,
    update_null_ignored,
)
from tests.conformance.faults.precision import PRECISION_FAULTS

FAULTS: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        Fault(
            "default-not-applied",
            "InvoiceCreateRequest currency default",
            ("defaults_applied",),
            after=default_not_applied,
        ),
        Fault(
            "date-not-echoed",
            "create_invoice / P23: a supplied date echoed as the same instant",
            ("supplied_fields_echoed",),
            after=date_not_echoed,
        ),
        Fault(
            "number-reused",
            "P19: generated numbers unique per owner",
            ("invoice_number_generated",),
            after=generated_number_reused,
        ),
        DuplicateAccepting(
            "duplicate-accepted", "P18 / create_invoice: a used number is 409", ("duplicate_number_refused",)
        ),
        Fault(
            "fields-as-map",
            "Invoice.invoice_fields: a list of {key, value}",
            ("invoice_fields_as_list",),
            after=fields_as_map,
        ),
        Fault(
            "parties-swapped",
            "InvoiceParties: payable invoices are billed by the target party",
            ("parties_by_invoice_type",),
            after=parties_swapped,
        ),
        Fault(
            "discount-ignored",
            "Invoice money identities: the discount is subtracted",
            ("money_identities",),
            after=discount_ignored,
        ),
        Fault(
            "status-code-400",
            "P11 / ErrorEnvelope: status_code is the HTTP status",
            ("envelope_consistent",),
            after=error_status_code_400,
        ),
        Fault(
            "problem-json",
            "ErrorEnvelope: errors are the JSON envelope, not problem+json",
            ("envelope_consistent", "field_errors_named"),
            after=problem_json,
        ),
        Fault(
            "auth-skipped",
            "bearerAuth: a missing or unknown token is 401",
            ("auth_required", "schema:ignored_auth"),
            before=auth_skipped,
        ),
        Fault(
            "owner-not-checked",
            "P03 / create_invoice: owner_uid not the user's is 403",
            ("owner_forbidden",),
            before=owner_not_checked,
        ),
        Fault(
            "crash-on-due-date",
            "never 5xx for a schema-valid request",
            ("schema:not_a_server_error",),
            before=crashes_on_due_date,
        ),
        Fault(
            "forgets-invoices",
            "get_invoice: an invoice just created is read back",
            ("get_returns_created", "state_machine"),
            after=forgets_invoices,
        ),
        Fault(
            "leaks-invoices",
            "get_invoice: another organization's invoice is 404",
            ("invisible_to_other_org",),
            before=leaks_invoices,
            after=remember_creators,
        ),
        Fault(
            "mixes-up-invoices",
            "P50 / get_invoice: an invoice is read back as created",
            ("get_returns_created", "state_machine"),
            after=mixes_up_invoices,
        ),
        Fault(
            "list-drops-newest",
            "list_invoices: a created invoice is listed",
            ("list_contains_created",),
            after=list_drops_newest,
        ),
        Fault(
            "no-challenge",
            "P08 / Unauthorized: 401 carries WWW-Authenticate",
            ("auth_required", "schema:response_headers_conformance"),
            after=no_challenge,
        ),
        CheckThenInsert(
            "number-race",
            "P33: concurrent creates of one number, one 200",
            ("concurrent_creates_one_number",),
        ),
        SequenceRace(
            "sequence-race",
            "P33 / P19: concurrent generated numbers distinct",
            ("concurrent_creates_distinct_numbers",),
        ),
        Fault(
            "numbers-case-insensitive",
            "P18: numbers compared exactly",
            ("numbers_compared_exactly",),
            before=numbers_case_insensitive,
        ),
        Fault(
            "small-body-limit",
            "P34: a body up to 1 MiB is accepted",
            ("large_body_accepted",),
            before=small_body_limit,
        ),
        Fault(
            "unknown-fields-ignored",
            "P17: an unknown field is 422",
            ("unknown_fields_refused",),
            before=unknown_fields_ignored,
        ),
        PageOverlap(
            "page-overlap", "P04 / P10: pages disjoint and complete", ("pages_disjoint_and_complete",)
        ),
        DefaultFilterMiscounted(
            "default-filter-miscounted",
            "P20: no invoice_type is invoice_type=ACCOUNTS_RECEIVABLE",
            ("list_default_filter_is_explicit",),
        ),
        Fault(
            "update-clears-omitted",
            "P54: an omitted field is unchanged",
            ("update_changes_only_what_it_sends",),
            before=update_clears_omitted,
        ),
        Fault(
            "update-ignores-status",
            "P57 / P30: status stored as sent",
            ("update_changes_only_what_it_sends", "update_status_and_paid_date_imply_nothing"),
            before=update_ignores_status,
        ),
        RefusedUpdateHalfApplied(
            "refused-update-half-applied",
            "P55 / P56: a refused update changes nothing",
            ("refused_update_changes_nothing", "update_number_rules"),
        ),
        BulkAppliesGoodItems(
            "bulk-applies-good-items", "P62: a bulk update is all or nothing", ("bulk_update_all_or_nothing",)
        ),
        BulkAnswerReversed(
            "bulk-answer-reversed", "P65: the bulk answer in request order", ("bulk_update_applies_in_order",)
        ),
        SoftDelete("delete-still-gettable", "P66: a deleted invoice is 404", ("deleted_invoice_is_gone",)),
        DeleteListed(
            "delete-still-listed", "P66: a deleted invoice is absent from lists", ("deleted_invoice_is_gone",)
        ),
        DeletedNumberTaken(
            "deleted-number-taken", "P67: a deleted invoice's number is free", ("deleted_number_is_free",)
        ),
        LineMoneyStale(
            "line-money-stale",
            "P70: money recomputed after a line-item change",
            ("line_items_priced_from_products", "line_items_money_after_every_change", "state_machine"),
        ),
        Fault(
            "unit-price-major-units",
            "P69: unit_price in requests is cents",
            ("line_items_priced_from_products", "line_items_money_after_every_change"),
            before=unit_price_as_major_units,
        ),
        Fault(
            "read-only-key-writes",
            "P74: a read-only key cannot write",
            ("read_only_key_cannot_write",),
            before=read_only_key_writes,
        ),
        UpdateNumberRace(
            "update-number-race",
            "P75: concurrent updates of one number, one 200",
            ("concurrent_updates_one_number",),
        ),
        BulkNotAtomic(
            "bulk-not-atomic",
            "P75: concurrent bulk requests serializable",
            ("concurrent_bulk_requests_serializable",),
        ),
        Fault(
            "changed-moves-to-top",
            "P76: a change does not move an invoice in the list",
            ("list_order_kept_after_changes",),
            after=changed_moves_to_top,
        ),
        Fault(
            "no-retry-after",
            "P22: 429 carries Retry-After",
            ("rate_limit_answers_429",),
            after=no_retry_after,
        ),
        ReadCacheNotInvalidated(
            "read-cache-not-invalidated",
            "P54: a get after an update returns the update's answer",
            ("update_read_after_write",),
        ),
        Fault(
            "update-null-ignored",
            "P54 / InvoiceUpdateRequest: null clears a nullable field",
            ("update_null_clears",),
            before=update_null_ignored,
        ),
        Fault(
            "update-fields-replaced",
            "P59: invoice_fields merged by key, keys not sent kept",
            ("update_fields_merged",),
            after=fields_replaced,
        ),
        Fault(
            "lines-keep-their-currency",
            "P60: a new currency becomes every line item's",
            ("update_currency_follows_to_lines",),
            after=lines_keep_their_currency,
        ),
        Fault(
            "bulk-truncated",
            "P63 / InvoiceBulkUpdateRequest maxItems: more than 100 items is 422",
            ("bulk_update_sizes",),
            before=bulk_truncated,
        ),
        BulkUpdateChecksExistenceOnly(
            "bulk-update-ignores-visibility",
            "P64: another organization's invoice in a bulk update is 404 for the whole request",
            ("bulk_update_invisible_is_404",),
        ),
        BulkDeleteOneByOne(
            "bulk-delete-one-by-one",
            "P62-P64: a bulk delete is all or nothing",
            ("bulk_delete_all_or_nothing",),
        ),
        LineBatchPartlyApplied(
            "line-batch-partly-applied",
            "P62 / P68 / P72: a refused line-item batch changes nothing",
            ("line_item_refusals_change_nothing",),
        ),
        DiscountCapped(
            "discount-capped",
            "P70: a change making the total negative is 422",
            ("line_items_total_never_negative",),
        ),
        Fault(
            "paid-date-marks-paid",
            "P57: status and paid_date imply nothing",
            ("update_status_and_paid_date_imply_nothing",),
            before=paid_date_marks_paid,
        ),
        OwnNumberConflicts(
            "own-number-conflicts", "P56: the invoice's own number is no conflict", ("update_number_rules",)
        ),
        LineDeleteMoneyStale(
            "line-delete-money-stale",
            "P70: money recomputed at once after a line-item delete",
            ("line_items_money_after_every_change",),
        ),
        Fault(
            "cents-through-double",
            "P73: amounts stay exact integers of cents at any size",
            ("line_item_amounts_exact",),
            after=cents_through_double,
        ),
        Fault(
            "quantity-maximum-exclusive",
            "P73: quantity 0-1000000, the maximum accepted",
            ("line_item_limits",),
            before=quantity_maximum_exclusive,
        ),
        Fault(
            "unit-price-clamped",
            "P73: a unit_price above 1000000000 cents is 422",
            ("line_item_limits",),
            before=unit_price_clamped,
        ),
        Fault(
            "line-batch-truncated",
            "P63: a line-item batch of more than 100 items is 422 and changes nothing",
            ("line_item_batch_sizes",),
            before=line_batch_truncated,
        ),
        Fault(
            "party-refusal-as-422",
            "P03 / create_invoice: an unbillable target party is 403",
            ("party_forbidden",),
            after=party_refusal_as_422,
        ),
        UnknownReferenceDropped(
            "unknown-reference-dropped",
            "P03 / create_invoice: an unknown document or blueprint is 422",
            ("unknown_reference_refused",),
        ),
        Fault(
            "numbers-unique-across-owners",
            "P19: numbers are unique within the owner organization",
            ("number_scoped_to_owner",),
            before=numbers_unique_across_owners,
        ),
        Fault("list-oldest-first", "P04: newest first", ("list_newest_first",), after=list_oldest_first),
        Fault(
            "total-pages-floored",
            "P53 / list_invoices: total_pages = ceil(total_items / per_page)",
            ("list_pagination_meta",),
            after=total_pages_floored,
        ),
        OwnPageSizeDefault(
            "own-page-size-default", "P21: the per_page default", ("list_filter_and_defaults",)
        ),
        Fault(
            "has-comments-always",
            "Invoice.has_comments: comments non-empty (a new invoice has none)",
            ("new_invoice_content",),
            after=has_comments_always,
        ),
        Fault(
            "days-not-clamped",
            "P38 / Invoice.age, overdue_days: 0 for a date in the future",
            ("age_and_overdue_days",),
            after=days_not_clamped,
        ),
        Fault(
            "errors-as-text-plain",
            "every error response is application/json",
            ("schema:content_type_conformance",),
            after=errors_as_text_plain,
        ),
        Fault(
            "list-query-error-as-400",
            "list_invoices documents 422 for a bad query, not 400",
            ("schema:status_code_conformance",),
            after=list_query_error_as_400,
        ),
        Fault(
            "total-as-string",
            "P39 / Invoice.total: a JSON number",
            ("schema:response_schema_conformance",),
            after=total_as_string,
        ),
        Fault(
            "page-past-end-refused",
            "P10: a page past the end is empty (a schema-valid page is accepted)",
            ("schema:positive_data_acceptance",),
            after=page_past_end_refused,
        ),
        PagingClamped(
            "paging-clamped",
            "list_invoices page / per_page bounds: out of range is 422",
            ("schema:negative_data_rejection",),
        ),
        Fault(
            "content-type-ignored",
            "create_invoice / P03: a content type other than application/json is 415",
            ("malformed_requests_refused",),
            before=content_type_ignored,
        ),
        Fault(
            "crashes-on-odd-input",
            "never 5xx for odd input (P28, P29, P32, P35)",
            ("robust_query_strings", "robust_header_values", "robust_json_bodies", "robust_unknown_methods"),
            before=crashes_on_odd_input,
        ),
        *PRECISION_FAULTS,
    )
}

# The faults that only the robustness family can see (the other wrappers are judged without it).
ROBUSTNESS_FAULTS = frozenset({"crashes-on-odd-input"})


class PrefixDispatcher:
    """Routes `/<name>/...` to the app registered under `name`, with the prefix stripped."""

    def __init__(self, apps: dict[str, ASGIApp]) -> None:
        self.apps = apps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        name, _, rest = scope["path"].lstrip("/").partition("/")
        app = self.apps.get(name)
        if app is None:
            await respond(send, envelope(404, f"no variant {name!r}"))
            return
        scope = dict(scope)
        scope["path"] = "/" + rest
        scope["raw_path"] = ("/" + rest).encode()
        await app(scope, receive, send)


def build_app(
    upstream: Callable[[], ASGIApp] | None = None,
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """Every fault over its own instance of `upstream` (default: the mock), plus the unwrapped
    upstream under `/clean`."""
    if upstream is None:
        from mockserver.http.app import create_app

        upstream = create_app
    apps: dict[str, ASGIApp] = {"clean": upstream()}
    for name, template in {**FAULTS, CREATE_READ_ONLY.name: CREATE_READ_ONLY}.items():
        fault = copy.copy(template)
        fault.memory = {}
        fault.app = upstream()
        apps[name] = fault
    return PrefixDispatcher(apps)


def build_app_over_second_server() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    from tests.second_server.app import create_app

    return build_app(create_app)
