"""Password sign-in, short-lived sessions, long-lived API tokens and the login rate limit."""

from __future__ import annotations

from pathlib import Path

from tests.integration.api.conftest import NOW, PASSWORD, Community, build_community


def test_a_password_gives_a_token_that_lasts_a_working_day(community: Community) -> None:
    community.give_passwords()
    response = community.client.post("/auth/login", json={"username": "member1",
                                                          "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["staff"]["username"] == "member1"
    me = community.client.get("/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["role"] == "grid_member"
    community.clock.t = NOW + 12 * 3600 + 1
    late = community.client.get("/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert late.status_code == 401


def test_on_the_demos_fast_clock_a_session_still_lasts_a_working_day_of_real_time(community: Community) -> None:
    """Found by a newcomer: on the demo's 60x clock a sign-in expired after 12 real minutes."""
    community.give_passwords()
    community.clock.speed = 60.0
    body = community.client.post("/auth/login", json={"username": "member1", "password": PASSWORD}).json()
    community.clock.t = NOW + 12 * 3600 * 59  # 11 h 48 m of real time later
    me = community.client.get("/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200, me.text
    community.clock.t = NOW + 12 * 3600 * 60 + 1
    assert community.client.get("/auth/me", headers={"Authorization": f"Bearer {body['token']}"}).status_code == 401


def test_passwords_are_kept_only_as_argon2_hashes(community: Community) -> None:
    community.give_passwords()
    with community.state.engine.connect() as db:
        stored = db.exec_driver_sql("SELECT password_hash FROM staff").scalars().all()
    assert all(h.startswith("$argon2id$") for h in stored)
    assert all(PASSWORD not in h for h in stored)


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(community: Community) -> None:
    community.give_passwords()
    wrong = community.client.post("/auth/login", json={"username": "member1", "password": "x"})
    unknown = community.client.post("/auth/login", json={"username": "nobody", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_failed_sign_ins_make_the_next_try_wait(community: Community) -> None:
    community.give_passwords()
    for _ in range(5):
        r = community.client.post("/auth/login", json={"username": "member1", "password": "no"})
        assert r.status_code == 401
    blocked = community.client.post("/auth/login", json={"username": "member1",
                                                         "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) == 1
    assert "wait" in blocked.json()["error"]["message"]
    community.wall.offset += 1
    again = community.client.post("/auth/login", json={"username": "member1",
                                                       "password": PASSWORD})
    assert again.status_code == 200


def test_one_address_cannot_try_many_usernames_without_limit(tmp_path: Path) -> None:
    community = build_community(tmp_path, login_max_failures=2)
    answers = [community.client.post("/auth/login", json={"username": f"u{i}",
                                                          "password": "no"}).status_code
               for i in range(9)]
    assert answers[:8] == [401] * 8 and answers[8] == 429


def test_signing_out_revokes_the_token(community: Community) -> None:
    community.give_passwords()
    token = community.client.post("/auth/login", json={"username": "head1",
                                                       "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert community.client.post("/auth/logout", headers=headers).status_code == 204
    assert community.client.get("/auth/me", headers=headers).status_code == 401


def test_api_tokens_are_shown_once_listed_and_revocable(community: Community) -> None:
    community.give_passwords()
    created = community.client.post("/auth/tokens", json={"name": "district platform",
                                                          "expires_in_days": 30, "password": PASSWORD},
                                    headers=community.auth("leader"))
    assert created.status_code == 201
    token = created.json()["token"]
    listed = community.client.get("/auth/tokens", headers=community.auth("leader")).json()
    assert any(t["name"] == "district platform" for t in listed)
    assert all("token" not in t for t in listed)
    headers = {"Authorization": f"Bearer {token}"}
    assert community.client.get("/auth/me", headers=headers).status_code == 200
    revoked = community.client.post(f"/auth/tokens/{created.json()['id']}/revoke",
                                    headers=community.auth("leader"))
    assert revoked.json()["revoked_at"] is not None
    assert community.client.get("/auth/me", headers=headers).status_code == 401


def test_changing_your_own_password_needs_the_current_one(community: Community) -> None:
    community.give_passwords()
    me = community.staff["member1"].id
    refused = community.client.put(f"/staff/{me}/password",
                                   json={"new_password": "another long one"},
                                   headers=community.auth("member1"))
    assert refused.status_code == 403
    done = community.client.put(f"/staff/{me}/password",
                                json={"new_password": "another long one",
                                      "current_password": PASSWORD},
                                headers=community.auth("member1"))
    assert done.status_code == 204
    assert community.client.post("/auth/login", json={"username": "member1",
                                 "password": "another long one"}).status_code == 200


def test_a_password_change_or_reset_ends_the_other_sessions_and_they_can_be_listed(
        community: Community) -> None:
    """Found by a privacy tester: after the owner changed her password, and after an admin reset
    it, a session signed in before still worked for the rest of its day, and the owner could not
    even see it (only API tokens were listed)."""
    community.give_passwords()
    me = community.staff["member1"].id

    def sign_in(password: str) -> dict[str, str]:
        answer = community.client.post("/auth/login", json={"username": "member1", "password": password})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    stolen, mine = sign_in(PASSWORD), sign_in(PASSWORD)
    listed = community.client.get("/auth/sessions", headers=mine)
    assert listed.status_code == 200 and [s["kind"] for s in listed.json()] == ["session", "session"]
    # Found by a regression tester: a stolen session made itself a token that outlived every change.
    assert community.client.post("/auth/tokens", json={"name": "thief"}, headers=stolen).status_code == 403
    assert community.client.post("/auth/tokens", json={"name": "thief", "password": "wrong one!"},
                                 headers=stolen).status_code == 403
    api_token = community.client.post("/auth/tokens", json={"name": "my platform", "password": PASSWORD},
                                      headers=mine).json()
    done = community.client.put(f"/staff/{me}/password", headers=mine,
                                json={"new_password": "another long one", "current_password": PASSWORD})
    assert done.status_code == 204
    assert community.client.get("/auth/me", headers=stolen).status_code == 401
    assert community.client.get("/auth/me", headers=mine).status_code == 200, "the one changing it goes on"
    assert len(community.client.get("/auth/sessions", headers=mine).json()) == 1
    integration = {"Authorization": f"Bearer {api_token['token']}"}
    assert community.client.get("/auth/me", headers=integration).status_code == 200, "API tokens stay"
    # and a leaked one cannot mint others that would outlive its own revocation
    assert community.client.post("/auth/tokens", json={"name": "spare"}, headers=integration).status_code == 403

    reset = community.client.put(f"/staff/{me}/password", headers=community.auth("admin"),
                                 json={"new_password": "an admin's reset one"})
    assert reset.status_code == 204
    assert community.client.get("/auth/me", headers=mine).status_code == 401, "a reset ends them all"
    assert community.client.get("/auth/me", headers=integration).status_code == 401, "its tokens too"
    entry = [e for e in community.state.audit.for_entity("staff", me) if e.action == "password_set"][-1]
    assert entry.details == {"sessions_and_tokens_ended": 3}  # the template gave member1 a token too
