"""Passwords (argon2) and bearer tokens: short-lived sign-in sessions and long-lived API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, bindparam, or_, select, update

from shouwang.domain.errors import InvalidInput, NotFound
from shouwang.domain.model import Staff
from shouwang.storage import audit as trail
from shouwang.storage.audit import Actor
from shouwang.storage.database import writing
from shouwang.storage.registry import Registry, hash_token
from shouwang.storage.schema import api_tokens, staff

MIN_PASSWORD = 10
SESSION = "session"
API = "api"


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    staff_id: int
    name: str
    kind: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None


# Built once: on the path of every request, building the statement cost more than running it.
_LIVE_ROLE = (select(staff.c.role)
              .select_from(api_tokens.join(staff, api_tokens.c.staff_id == staff.c.id))
              .where(api_tokens.c.token_hash == bindparam("token_hash"),
                     api_tokens.c.revoked_at.is_(None),
                     or_(api_tokens.c.expires_at.is_(None),
                         api_tokens.c.expires_at > bindparam("now")),
                     staff.c.active.is_(True)))


def _info(r: Any) -> TokenInfo:
    return TokenInfo(r.id, r.staff_id, r.name, r.kind, r.created_at, r.expires_at, r.revoked_at)


class Credentials:
    def __init__(self, engine: Engine, registry: Registry,
                 hasher: PasswordHasher | None = None) -> None:
        self._engine = engine
        self._registry = registry
        self._hasher = hasher or PasswordHasher()
        self._decoy_hash: str | None = None

    @property
    def _decoy(self) -> str:
        """Verified when the username is unknown, so a miss costs as much as a wrong password."""
        if self._decoy_hash is None:
            self._decoy_hash = self._hasher.hash("not-a-real-password")
        return self._decoy_hash

    def set_password(self, staff_id: int, password: str, *, actor: Actor, now: float,
                     keep_session: int | None = None, with_api_tokens: bool = False) -> int:
        """Set the password and end every sign-in session of theirs but `keep_session` (the one
        changing it), and `with_api_tokens` their API tokens too (an admin's reset: the account
        may have been taken); return how many ended. Found by a privacy tester: a session signed
        in before a change or an admin's reset went on working for the rest of its day, so a
        stolen one outlived the very step taken against it. On their own change, the API tokens
        the owner made stay (listed and revocable at `GET /auth/tokens`; a session makes one only
        with the password)."""
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters")
        self._registry.staff(staff_id)
        with writing(self._engine) as db:
            db.execute(update(staff).where(staff.c.id == staff_id)
                       .values(password_hash=self._hasher.hash(password)))
            live = [api_tokens.c.staff_id == staff_id, api_tokens.c.revoked_at.is_(None)]
            if not with_api_tokens:
                live.append(api_tokens.c.kind == SESSION)
            if keep_session is not None:
                live.append(api_tokens.c.id != keep_session)
            ended = db.execute(update(api_tokens).where(*live).values(revoked_at=now)).rowcount
            trail.record(db, at=now, actor=actor, action="password_set", entity="staff",
                         entity_id=staff_id, details=None if not ended else
                         {"sessions_and_tokens_ended" if with_api_tokens else "sessions_ended": ended})
        return int(ended)

    def check_password(self, staff_id: int, password: str) -> bool:
        with self._engine.connect() as db:
            row = db.execute(select(staff.c.password_hash).where(staff.c.id == staff_id)).first()
        return row is not None and self._verify(row.password_hash, password)

    def _verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._decoy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def sign_in(self, username: str, password: str) -> Staff | None:
        """The active staff member with this username and password, else None."""
        with self._engine.connect() as db:
            row = db.execute(select(staff.c.id, staff.c.password_hash, staff.c.active)
                             .where(staff.c.username == username)).first()
        stored = row.password_hash if row is not None else None
        if not self._verify(stored, password) or row is None or not row.active:
            return None
        return self._registry.staff(row.id)

    def authenticate(self, token: str, *, now: float) -> tuple[Staff, TokenInfo] | None:
        """The staff member and token behind a bearer token, if it is live."""
        with self._engine.connect() as db:
            row = db.execute(select(api_tokens).where(
                api_tokens.c.token_hash == hash_token(token),
                api_tokens.c.revoked_at.is_(None),
                or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now),
            )).first()
        if row is None:
            return None
        member = self._registry.staff(row.staff_id)
        return (member, _info(row)) if member.active else None

    def live_role(self, token: str, *, now: float) -> str | None:
        """The role of the active staff member behind a live token, else None: one indexed read,
        cheap enough for every request, so a revocation or retirement counts at once."""
        with self._engine.connect() as db:
            role: str | None = db.execute(
                _LIVE_ROLE, {"token_hash": hash_token(token), "now": now}).scalar()
        return role

    def tokens(self, staff_id: int, *, kind: str | None = API) -> list[TokenInfo]:
        query = select(api_tokens).where(api_tokens.c.staff_id == staff_id)
        if kind is not None:
            query = query.where(api_tokens.c.kind == kind)
        with self._engine.connect() as db:
            return [_info(r) for r in db.execute(query.order_by(api_tokens.c.id))]

    def token(self, token_id: int) -> TokenInfo:
        with self._engine.connect() as db:
            row = db.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
        if row is None:
            raise NotFound("token", token_id)
        return _info(row)

    def revoke(self, token_id: int, *, actor: Actor, now: float) -> TokenInfo:
        info = self.token(token_id)
        with writing(self._engine) as db:
            db.execute(update(api_tokens)
                       .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                       .values(revoked_at=now))
            trail.record(db, at=now, actor=actor, action="token_revoked", entity="staff",
                         entity_id=info.staff_id, details={"token_id": token_id,
                                                           "kind": info.kind})
        return self.token(token_id)
