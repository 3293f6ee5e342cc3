"""The wiring's order (issue 12): the session is resolved after routing, so neither an unknown
path nor Swagger UI nor a canned `Prefer` answer makes one; the factory's object owns its parts."""

from __future__ import annotations

from tests.mockserver.support import assert_error, create_app

SESSION = "X-Mock-Session"


def sessions(client) -> set[str]:
    return {s["session"] for s in client.get("/__mock/sessions").json()["data"]}


def test_an_unknown_path_with_a_bad_session_header_is_404(client):
    assert_error(client.get("/nowhere", headers={SESSION: "not a name!"}), 404)
    assert_error(client.get("/api/nowhere", headers={SESSION: "x" * 200}), 404)


def test_a_bad_session_header_on_a_real_operation_is_still_400(client):
    assert_error(client.get("/__mock/clock", headers={SESSION: "not a name!"}), 400)


def test_swagger_ui_with_the_header_creates_no_session(client):
    assert client.get("/ui/", headers={SESSION: "from-the-ui"}).status_code == 200
    assert "from-the-ui" not in sessions(client)


def test_a_canned_answer_creates_no_session(client):
    response = client.post("/api/invoices", json={}, headers={"Prefer": "code=409", SESSION: "canned"})
    assert response.status_code == 409
    assert "canned" not in sessions(client)


def test_the_factory_returns_an_object_that_owns_runtime_persistence_and_protocol():
    mock = create_app()
    assert mock.runtime.sessions.world is mock.world
    assert mock.persistence is None
    assert "http" in mock.uvicorn_options()


def test_the_start_builds_connexions_stack_and_freezes_what_it_made_until_shutdown():
    """A served mock is ready before its first request (issue 18's first 200 and p99), and the
    readying request (`GET /`) leaves no trace: no session, no request log entry."""
    import gc

    mock = create_app()
    assert mock.connexion.middleware.middleware_stack is None, "Connexion built its stack before the start"
    with mock.test_client() as client:  # runs the lifespan, as uvicorn does
        assert mock.connexion.middleware.middleware_stack is not None
        assert gc.get_freeze_count() > 0
        assert sessions(client) == {"default"}
        assert client.get("/__mock/requests").json()["data"] == []
    assert gc.get_freeze_count() == 0, "the shutdown did not unfreeze"
