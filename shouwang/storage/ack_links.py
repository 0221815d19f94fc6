"""Which one-time acknowledgement links have been used, for what: a link works once per action."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError

from shouwang.domain.ack_links import AckLink
from shouwang.storage.database import writing
from shouwang.storage.schema import ack_links_used


class AckLinkStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def use(self, link: AckLink, *, action: str, now: float) -> bool:
        """Mark the link used for `action`; False if it was used for it before (by anyone)."""
        try:
            with writing(self._engine) as db:
                db.execute(insert(ack_links_used).values(nonce=link.nonce, action=action, alert_id=link.alert_id,
                                                         staff_id=link.staff_id, used_at=now))
        except IntegrityError:
            return False
        return True

    def release(self, link: AckLink, *, action: str) -> None:
        """The link is usable for `action` again: what it was spent on did not happen."""
        with writing(self._engine) as db:
            db.execute(delete(ack_links_used).where(ack_links_used.c.nonce == link.nonce,
                                                    ack_links_used.c.action == action))
