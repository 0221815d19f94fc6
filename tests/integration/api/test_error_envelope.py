"""Every error, even for unknown paths and methods, has one shape: {"error": {code, message}}."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.integration.api.conftest import Community


def test_a_body_that_is_not_json_is_a_bad_request(community: Community) -> None:
    alert_id = community.alerts["h-east-red"].id
    response = community.client.post(f"/alerts/{alert_id}/resolve", content=b'{"outcome": ',
                                     headers={**community.auth("caseworker"),
                                              "Content-Type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request" and "not valid JSON" in error["message"]


def test_a_broken_body_is_a_bad_request_even_where_the_route_reads_none(community: Community) -> None:
    """Found by a newcomer: `POST /households/{id}/retire` (and acknowledge) ignored a broken body
    and did what was asked."""
    response = community.client.post("/households/h-east-yellow/retire", content=b"not json",
                                     headers={**community.auth("admin"), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "bad_request", "message": "the request body is not valid JSON (Expecting value); send UTF-8 JSON"}
    assert community.state.registry.household("h-east-yellow").is_active
    empty = community.client.post("/households/h-east-yellow/retire",
                                  headers={**community.auth("admin"), "Content-Type": "application/json"})
    assert empty.status_code == 200  # no body at all is what such a route takes


def test_json_that_does_not_fit_is_unprocessable(community: Community) -> None:
    alert_id = community.alerts["h-east-red"].id
    response = community.client.post(f"/alerts/{alert_id}/resolve", json={"outcome": "meh"},
                                     headers=community.auth("caseworker"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["problems"][0]["where"] == "body.outcome"


def test_a_misspelt_field_is_refused_and_the_alert_stays_open(community: Community) -> None:
    alert_id = community.alerts["h-east-red"].id
    auth = community.auth("caseworker")
    response = community.client.post(f"/alerts/{alert_id}/resolve",
                                     json={"outcome": "elder_fine", "notes": "asleep in the chair"},
                                     headers=auth)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [p["where"] for p in error["problems"]] == ["body.notes"]
    assert community.client.get(f"/alerts/{alert_id}", headers=auth).json()["state"] == "open"


def test_sign_in_with_broken_json_is_a_bad_request_too(community: Community) -> None:
    response = community.client.post("/auth/login", content=b"{user",
                                     headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"


def test_an_unknown_path_answers_in_the_error_envelope(community: Community) -> None:
    response = community.client.get("/no-such-thing", headers=community.auth("admin"))
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message":
                                         "there is no /no-such-thing; the API is described at /docs"}}


def test_a_missing_static_file_answers_in_the_error_envelope(community: Community) -> None:
    response = community.client.get("/static/nothing.js")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_wrong_method_answers_in_the_error_envelope(community: Community) -> None:
    response = community.client.delete("/health")
    assert response.status_code == 405 and response.headers["allow"] == "GET"
    assert response.json() == {"error": {"code": "method_not_allowed",
                                         "message": "DELETE is not allowed on /health; use GET"}}


def test_a_domain_not_found_keeps_its_own_message(community: Community) -> None:
    response = community.client.get("/alerts/999999", headers=community.auth("admin"))
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "not_found", "message": "alert 999999 was not found"}


def test_an_unexpected_failure_answers_in_the_error_envelope(community: Community) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    community.client.app.add_api_route("/broken-for-test", broken)  # type: ignore[attr-defined]
    with TestClient(community.client.app, raise_server_exceptions=False) as client:
        response = client.get("/broken-for-test")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal"


def test_a_body_without_a_json_content_type_is_415_with_the_header_that_fixes_it(community: Community) -> None:
    alert_id = community.alerts["h-east-red"].id
    auth = community.auth("caseworker")
    body = b'{"outcome": "elder_fine"}'
    for sent in ({}, {"Content-Type": "application/x-www-form-urlencoded"}, {"Content-Type": "text/plain"}):
        response = community.client.post(f"/alerts/{alert_id}/resolve", content=body, headers={**auth, **sent})
        assert response.status_code == 415, sent
        error = response.json()["error"]
        assert error["code"] == "unsupported_media_type"
        assert "-H 'Content-Type: application/json'" in error["message"]
    assert community.client.get(f"/alerts/{alert_id}", headers=auth).json()["state"] == "open"
    fine = community.client.post(f"/alerts/{alert_id}/resolve", content=body,
                                 headers={**auth, "Content-Type": "application/json; charset=utf-8"})
    assert fine.status_code == 200


def test_a_post_with_no_body_needs_no_content_type(community: Community) -> None:
    alert_id = community.alerts["h-east-red"].id
    response = community.client.post(f"/alerts/{alert_id}/acknowledge", headers=community.auth("caseworker"))
    assert response.status_code == 200


def test_an_import_takes_csv_and_says_so_to_json(community: Community) -> None:
    response = community.client.post("/imports/households", json={"id": "h-x"}, headers=community.auth("admin"))
    assert response.status_code == 415
    assert "text/csv" in response.json()["error"]["message"]
