"""Found by a regression tester: POST /auth/tokens checked the password for an API token too, but
without the sign-in limiter, so a leaked integration token was an unlimited password oracle (the
password it found signs in on the page and outlives the token's revocation). /auth/login refuses
the 6th wrong try for one username (429 with Retry-After); token creation, and changing one's own
password, now count their wrong passwords the same way.
"""

from __future__ import annotations

from tests.integration.api.conftest import PASSWORD, Community


def test_guessing_the_password_through_token_creation_is_held_like_a_sign_in(community: Community) -> None:
    community.give_passwords()
    leaked = community.client.post("/auth/tokens", json={"name": "platform", "password": PASSWORD},
                                   headers=community.auth("leader")).json()["token"]
    theirs = {"Authorization": f"Bearer {leaked}"}
    answers = [community.client.post("/auth/tokens", json={"name": "x", "password": f"guess {i}"},
                                     headers=theirs).status_code for i in range(12)]
    # the sign-in holds the 6th failure for one username; token creation should not be a way round it
    assert 429 in answers, answers
    found = community.client.post("/auth/tokens", json={"name": "x", "password": PASSWORD}, headers=theirs)
    assert found.status_code == 429, "the right password is confirmed after 12 wrong ones in a row"


def test_guessing_the_current_password_of_a_stolen_session_is_held_like_a_sign_in(community: Community) -> None:
    community.give_passwords()
    me = community.staff["member1"].id
    stolen = community.auth("member1")
    answers = [community.client.put(f"/staff/{me}/password", headers=stolen,
                                    json={"new_password": "a thief's own one", "current_password": f"guess {i}"}
                                    ).status_code for i in range(12)]
    assert 429 in answers and answers[0] == 403, answers
    held = community.client.put(f"/staff/{me}/password", headers=stolen,
                                json={"new_password": "a thief's own one", "current_password": PASSWORD})
    assert held.status_code == 429
