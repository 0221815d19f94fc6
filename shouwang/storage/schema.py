"""The state store's tables (SQLAlchemy Core), portable between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

grids = Table(
    "grids",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("retired_at", Float),
)

staff = Table(
    "staff",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("phone", String(64)),
    Column("webhook_url", String(1000)),
    Column("notify_mqtt", Boolean, nullable=False, default=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("password_hash", String(300)),
    Column("created_at", Float, nullable=False),
    # Their channels in order, a JSON list (shouwang.domain.channels); NULL: never set, so their
    # webhook_url and notify_mqtt above are the list. Kept in step with those two when set.
    Column("channels", JSON),
)

staff_grids = Table(
    "staff_grids",
    metadata,
    Column("staff_id", Integer, ForeignKey("staff.id"), primary_key=True),
    Column("grid_id", String(64), ForeignKey("grids.id"), primary_key=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("staff_id", Integer, ForeignKey("staff.id"), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("revoked_at", Float),
    # "api": long-lived, for integrations; "session": short-lived, from a password sign-in.
    Column("kind", String(16), nullable=False, default="api", server_default="api"),
)

households = Table(
    "households",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("alias", String(200)),
    Column("address", String(500)),
    Column("building", String(200)),
    Column("tier", Integer, nullable=False),
    Column("grid_id", String(64), ForeignKey("grids.id"), nullable=False),
    Column("caseworker_id", Integer, ForeignKey("staff.id")),
    Column("away_until", Float),
    Column("monitoring_since", Float),
    Column("retired_at", Float),
    Column("created_at", Float, nullable=False),
)
Index("ix_households_grid", households.c.grid_id)

hubs = Table(
    "hubs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("household_id", String(64), ForeignKey("households.id"), nullable=False),
    Column("report_interval_s", Float, nullable=False, default=900.0),
    Column("presence", String(16)),
    Column("presence_at", Float),
    Column("battery", Float),
    Column("created_at", Float, nullable=False),
    Column("retired_at", Float),
)
Index("ix_hubs_household", hubs.c.household_id)

household_status = Table(
    "household_status",
    metadata,
    Column("household_id", String(64), ForeignKey("households.id"), primary_key=True),
    Column("last_sign_at", Float),
    Column("last_sign_kind", String(32)),
    Column("last_door_at", Float),
    Column("hub_last_seen_at", Float),
    Column("updated_at", Float, nullable=False),
    Column("learned_days", Integer),
)

# What the detector must remember of each household across restarts, whatever its age.
detector_memory = Table(
    "detector_memory",
    metadata,
    Column("household_id", String(64), ForeignKey("households.id"), primary_key=True),
    Column("watching_since", Float, nullable=False),
    Column("first_heard_at", Float),
    Column("last_water_at", Float),
    Column("updated_at", Float, nullable=False),
)

# Each household's usual rhythm as the learned detector knows it, for the page to weigh a silence.
household_rhythm = Table(
    "household_rhythm",
    metadata,
    Column("household_id", String(64), ForeignKey("households.id"), primary_key=True),
    Column("rates", Text, nullable=False),  # JSON: 168 expected uses per hour of the week, Monday 00:00 first
    Column("updated_at", Float, nullable=False),
)

# One-time acknowledgement links already used, per action, so none works twice.
ack_links_used = Table(
    "ack_links_used",
    metadata,
    Column("nonce", String(32), primary_key=True),
    Column("action", String(16), primary_key=True),
    Column("alert_id", Integer, nullable=False),
    Column("staff_id", Integer, nullable=False),
    Column("used_at", Float, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("household_id", String(64), ForeignKey("households.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("opened_at", Float, nullable=False),
    Column("since", Float, nullable=False),
    Column("explanation", Text, nullable=False),
    Column("escalation_level", Integer, nullable=False, default=0),
    # Highest rung whose recipients have deliveries queued; behind escalation_level means
    # dispatch still has routing to do (it survives a crash between the two steps).
    Column("notified_level", Integer, nullable=False, default=-1),
    Column("next_escalation_at", Float),
    Column("acknowledged_at", Float),
    Column("acknowledged_by", Integer, ForeignKey("staff.id")),
    Column("resolved_at", Float),
    Column("resolved_by", Integer, ForeignKey("staff.id")),
    Column("outcome", String(32)),
    Column("note", Text),
    Column("details", JSON, nullable=False, default=dict),
)
# At most one unresolved alert per household and kind, enforced by the database itself.
Index(
    "ux_alerts_one_unresolved",
    alerts.c.household_id,
    alerts.c.kind,
    unique=True,
    sqlite_where=text("state != 'resolved'"),
    postgresql_where=text("state != 'resolved'"),
)
Index("ix_alerts_state_escalation", alerts.c.state, alerts.c.next_escalation_at)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("staff_id", Integer, ForeignKey("staff.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("event", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("delivered_at", Float),
    Column("last_error", Text),
    # The rung this delivery tells (opened/escalated); when all of a rung's fail, the ladder moves on.
    Column("level", Integer),
)
Index("ix_deliveries_due", deliveries.c.status, deliveries.c.next_attempt_at)
Index("ix_deliveries_alert", deliveries.c.alert_id)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("actor_staff_id", Integer, ForeignKey("staff.id")),
    Column("actor", String(100), nullable=False),
    Column("action", String(64), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("details", JSON, nullable=False, default=dict),
)
Index("ix_audit_entity", audit.c.entity, audit.c.entity_id)

visits = Table(
    "visits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("household_id", String(64), ForeignKey("households.id"), nullable=False),
    Column("staff_id", Integer, ForeignKey("staff.id")),
    Column("at", Float, nullable=False),
    Column("note", Text),
    Column("recorded_at", Float, nullable=False),
    Column("how", String(16)),  # "visit" (in person; also NULL, as before) or "call"
)
Index("ix_visits_household_at", visits.c.household_id, visits.c.at)
# Each household's last visit in person from the index alone (calls left out): 0.16 s instead of
# 2 s over 600,000 visits, for the five visits' round every minute.
Index("ix_visits_household_how_at", visits.c.household_id, visits.c.how, visits.c.at)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", Float, nullable=False),
    Column("topic", String(500), nullable=False),
    Column("hub_id", String(64)),
    Column("category", String(32), nullable=False, default="rejected"),
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),
)
Index("ix_dead_letters_hub", dead_letters.c.hub_id, dead_letters.c.id)

# How many dead letters were dropped to keep the table within its caps, per hub ("" for any).
dead_letter_drops = Table(
    "dead_letter_drops",
    metadata,
    Column("hub_id", String(64), primary_key=True),
    Column("dropped", BigInteger, nullable=False),
)

# The households a volunteer visits (a volunteer sees these and no others).
staff_households = Table(
    "staff_households",
    metadata,
    Column("staff_id", Integer, ForeignKey("staff.id"), primary_key=True),
    Column("household_id", String(64), ForeignKey("households.id"), primary_key=True),
)

# Consent, one row per statement (newest wins): who agreed, when, to what.
consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("household_id", String(64), ForeignKey("households.id"), nullable=False),
    Column("given_by", String(200), nullable=False),
    Column("relationship", String(64), nullable=False),
    Column("sensing", Boolean, nullable=False),
    Column("share_with_family", Boolean, nullable=False),
    Column("given_at", Float, nullable=False),
    Column("note", Text),
    Column("recorded_by", Integer, ForeignKey("staff.id")),
    Column("recorded_at", Float, nullable=False),
)
Index("ix_consents_household", consents.c.household_id, consents.c.id)

# "Away until": staff say the elder is away, so silence is expected.
silences = Table(
    "silences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("household_id", String(64), ForeignKey("households.id"), nullable=False),
    Column("starts_at", Float, nullable=False),
    Column("until", Float, nullable=False),
    Column("reason", Text),
    Column("created_by", Integer, ForeignKey("staff.id")),
    Column("created_at", Float, nullable=False),
    Column("cancelled_at", Float),
)
Index("ix_silences_household", silences.c.household_id, silences.c.until)

alert_comments = Table(
    "alert_comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("staff_id", Integer, ForeignKey("staff.id")),
    Column("at", Float, nullable=False),
    Column("text", Text, nullable=False),
)
Index("ix_alert_comments_alert", alert_comments.c.alert_id)

alert_assignments = Table(
    "alert_assignments",
    metadata,
    Column("alert_id", Integer, ForeignKey("alerts.id"), primary_key=True),
    Column("staff_id", Integer, ForeignKey("staff.id"), nullable=False),
    Column("assigned_by", Integer, ForeignKey("staff.id")),
    Column("assigned_at", Float, nullable=False),
)
Index("ix_alert_assignments_staff", alert_assignments.c.staff_id)
Index("ix_alerts_household", alerts.c.household_id, alerts.c.id)

# Failed sign-ins, shared by every API process: one row per username and address, and one per
# address ("pair:" and "addr:" keys); a try is counted before the password is checked and
# forgiven when it succeeds.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_at", Float, nullable=False),
    Column("blocked_until", Float, nullable=False),
)
Index("ix_sign_in_failures_last_at", sign_in_failures.c.last_at)

# The weekly duty roster: who is duty leader on which weekday from which hour to which (local
# time; an end not after the start runs past midnight: night duty).
duty_roster = Table(
    "duty_roster",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("staff_id", Integer, ForeignKey("staff.id"), nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("start_h", Integer, nullable=False),
    Column("end_h", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Leave: a staff member is off from–to; their deputy receives what they would.
staff_leave = Table(
    "staff_leave",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("staff_id", Integer, ForeignKey("staff.id"), nullable=False),
    Column("starts_at", Float, nullable=False),
    Column("ends_at", Float, nullable=False),
    Column("deputy_id", Integer, ForeignKey("staff.id")),
    Column("reason", Text),
    Column("created_by", Integer, ForeignKey("staff.id")),
    Column("created_at", Float, nullable=False),
    Column("cancelled_at", Float),
)
Index("ix_staff_leave_ends", staff_leave.c.ends_at)

# The next reminder owed to an open alert's current step; advanced in the same transaction as
# the reminders it queues, so a restart neither repeats nor skips one.
alert_reminders = Table(
    "alert_reminders",
    metadata,
    Column("alert_id", Integer, ForeignKey("alerts.id"), primary_key=True),
    Column("level", Integer, nullable=False),
    Column("next_at", Float, nullable=False),
    Column("sent", Integer, nullable=False, default=0),
)
Index("ix_alert_reminders_next", alert_reminders.c.next_at)

# Maintenance windows: a hub or a whole grid is being worked on; what it covers stays silent.
maintenance_windows = Table(
    "maintenance_windows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hub_id", String(64)),
    Column("grid_id", String(64), ForeignKey("grids.id")),
    Column("starts_at", Float, nullable=False),
    Column("until", Float, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", Integer, ForeignKey("staff.id")),
    Column("created_at", Float, nullable=False),
    Column("cancelled_at", Float),
)
Index("ix_maintenance_until", maintenance_windows.c.until)

# A household's emergency contacts: relatives who agreed (consent recorded: who, when, recorded
# by whom) to stand on its ladder at a step, reached on a channel kind at an address.
family_contacts = Table(
    "family_contacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("household_id", String(64), ForeignKey("households.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("relation", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("address", String(1000), nullable=False),
    Column("step", Integer),
    Column("consent_by", String(200), nullable=False),
    Column("consent_at", Float, nullable=False),
    Column("recorded_by", Integer, ForeignKey("staff.id")),
    Column("created_at", Float, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)
Index("ix_family_contacts_household", family_contacts.c.household_id)

# What a family contact is owed for an alert, retried like a staff delivery.
family_deliveries = Table(
    "family_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("contact_id", Integer, ForeignKey("family_contacts.id"), nullable=False),
    Column("event", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("delivered_at", Float),
    Column("last_error", Text),
)
Index("ix_family_deliveries_due", family_deliveries.c.status, family_deliveries.c.next_attempt_at)

# Reminders and suggestions owed to one staff member on one channel that are not about an alert
# (an overdue visit, a hotter colour to consider); stored before sending, retried like deliveries.
# The unique key makes each one owed once: a visit overdue in its second period is a new `key`.
care_notices = Table(
    "care_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("household_id", String(64), ForeignKey("households.id"), nullable=False),
    Column("staff_id", Integer, ForeignKey("staff.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("key", String(100), nullable=False),
    Column("body", JSON, nullable=False, default=dict),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("delivered_at", Float),
    Column("last_error", Text),
)
# `key` first: a round looks up which of its keys are owed already (see CareStore.owe).
Index("ux_care_notices_once", care_notices.c.key, care_notices.c.kind, care_notices.c.household_id,
      care_notices.c.staff_id, care_notices.c.channel, unique=True)
Index("ix_care_notices_due", care_notices.c.status, care_notices.c.next_attempt_at)

# A hotter colour suggested for a household; open until a person raises the colour or declines.
tier_suggestions = Table(
    "tier_suggestions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("household_id", String(64), ForeignKey("households.id"), nullable=False),
    Column("from_tier", Integer, nullable=False),
    Column("to_tier", Integer, nullable=False),
    Column("alert_ids", JSON, nullable=False, default=list),
    Column("created_at", Float, nullable=False),
    Column("state", String(16), nullable=False),
    Column("decided_at", Float),
    Column("decided_by", Integer, ForeignKey("staff.id")),
    Column("reason", Text),
)
Index("ix_tier_suggestions_household", tier_suggestions.c.household_id, tier_suggestions.c.id)

# A hub's device map: which device its bridges (Zigbee2MQTT, Tasmota, Shelly, wmbusmeters) name is
# which sign of the home (issue 13).
hub_devices = Table(
    "hub_devices",
    metadata,
    Column("hub_id", String(64), ForeignKey("hubs.id"), primary_key=True),
    Column("device", String(128), primary_key=True),
    Column("bridge", String(16)),
    Column("kind", String(16), nullable=False),
    Column("sensor", String(48), nullable=False),
    Column("fine_actions", String(400)),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(64), nullable=False),
)

# Every bridged device a hub's bridges spoke of, mapped or not: when first and last heard, how
# often, its battery and its availability (the installer's view, and `hubs devices --unmapped`).
device_sightings = Table(
    "device_sightings",
    metadata,
    Column("hub_id", String(64), primary_key=True),
    Column("bridge", String(16), primary_key=True),
    Column("device", String(128), primary_key=True),
    Column("first_seen_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
    Column("messages", BigInteger, nullable=False),
    Column("battery", Float),
    Column("online", Boolean),
    Column("online_at", Float),
)

# The detectors running now, each shard's (`shouwang detector --shard k/n`): each says it is alive
# every half minute, so any of them can tell households that no detector watches (found by a
# tester: `--shard 1/2` beside `--shard 1/3`, a typo for 2/2, left 15 of 40 homes unwatched while
# both detectors said ok).
detector_shards = Table(
    "detector_shards",
    metadata,
    Column("instance", String(200), primary_key=True),
    Column("shard_index", Integer, nullable=False),
    Column("shard_count", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("seen_at", Float, nullable=False),
    Column("clock_at", Float, nullable=False, server_default="0"),
    Column("stopped_at", Float),
)
