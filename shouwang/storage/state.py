"""The state store: one engine, one repository per concept."""

from __future__ import annotations

from sqlalchemy import Engine

from shouwang.storage.ack_links import AckLinkStore
from shouwang.storage.alert_notes import AlertNotes
from shouwang.storage.alert_query import AlertLister
from shouwang.storage.alerts import AlertStore
from shouwang.storage.audit import AuditTrail
from shouwang.storage.audit_query import AuditQuery
from shouwang.storage.care import CareRows, CareStore
from shouwang.storage.consent import ConsentStore
from shouwang.storage.cover import CoverStore
from shouwang.storage.credentials import Credentials
from shouwang.storage.database import connect
from shouwang.storage.dead_letters import DeadLetterStore
from shouwang.storage.devices import DeviceStore
from shouwang.storage.elder_data import ElderData
from shouwang.storage.family import FamilyStore
from shouwang.storage.maintenance import MaintenanceStore
from shouwang.storage.memory import MemoryStore
from shouwang.storage.registry import Registry
from shouwang.storage.reminders import ReminderStore
from shouwang.storage.rhythm import RhythmStore
from shouwang.storage.shards import ShardStore
from shouwang.storage.sign_ins import SignInAttempts
from shouwang.storage.silences import SilenceStore
from shouwang.storage.status import StatusStore
from shouwang.storage.visits import VisitStore


class StateStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.registry = Registry(engine)
        self.alerts = AlertStore(engine)
        self.audit = AuditTrail(engine)
        self.dead_letters = DeadLetterStore(engine)
        self.status = StatusStore(engine)
        self.shards = ShardStore(engine)
        self.memory = MemoryStore(engine)
        self.rhythm = RhythmStore(engine)
        self.ack_links = AckLinkStore(engine)
        self.visits = VisitStore(engine)
        self.credentials = Credentials(engine, self.registry)
        self.consent = ConsentStore(engine)
        self.silences = SilenceStore(engine)
        self.alert_notes = AlertNotes(engine)
        self.alert_list = AlertLister(engine)
        self.audit_query = AuditQuery(engine)
        self.elder_data = ElderData(engine)
        self.sign_ins = SignInAttempts(engine)
        self.cover = CoverStore(engine)
        self.reminders = ReminderStore(engine)
        self.family = FamilyStore(engine)
        self.maintenance = MaintenanceStore(engine)
        self.care = CareStore(engine)
        self.care_rows = CareRows(engine)
        self.devices = DeviceStore(engine)

    @classmethod
    def open(cls, url: str) -> StateStore:
        return cls(connect(url))

    def close(self) -> None:
        self.engine.dispose()
