"""What a household's readings say: hourly use, signs of life per hour, its timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api import timeline as timelines
from api import usage
from api.context import ApiContext
from api.deps import Context, Now, ReadableHousehold
from api.schemas.common import BY_ID, at, seconds
from api.schemas.data import (
    ActivityOut,
    HourlyUse,
    ReadingsOut,
    SensorUse,
    SilenceOut,
    TimelineEvent,
    TimelineOut,
)
from detector.signs import SignReader
from shouwang.domain.errors import InvalidInput
from shouwang.domain.model import SensorKind
from shouwang.domain.usual import expected_uses
from shouwang.storage.alert_query import AlertQuery

router = APIRouter(prefix="/households/{household_id}", tags=["readings"])
MAX_SPAN_S = 31 * 86400.0
USUAL_DAYS = 28
"""How far back the chart's "usual" band looks."""
Sensor = Annotated[str | None, Query(pattern=r"^(water|electricity|gas|door|motion|button)(\.[a-z0-9_-]+)?$")]


def _period(start: datetime | None, end: datetime | None, now: float,
            default_s: float) -> tuple[float, float]:
    stop = seconds(end) if end else now
    begin = seconds(start) if start else stop - default_s
    if begin >= stop:
        raise InvalidInput("'start' must be before 'end'")
    if stop - begin > MAX_SPAN_S:
        raise InvalidInput("ask for at most 31 days at a time")
    return begin, stop


def _reader(context: ApiContext) -> SignReader:
    d = context.settings.detector
    return SignReader(standby_w=d.standby_w, switch_step_w=d.switch_step_w,
                      min_flow_m3_per_h=d.min_flow_m3_per_h)


@router.get("/readings", response_model=ReadingsOut, responses=BY_ID,
            summary="Hourly use per sensor for a period (default: the last 24 hours)")
def readings(household: ReadableHousehold, context: Context, now: Now,
             start: datetime | None = None, end: datetime | None = None,
             sensor: Sensor = None) -> ReadingsOut:
    begin, stop = _period(start, end, now, 86400.0)
    rows = context.readings.query(household_id=household.id, start=begin - usage.HOUR,
                                  end=stop, sensor=sensor)
    sensors = [
        SensorUse(sensor=name, unit=usage.UNITS[SensorKind(name.split(".")[0])],
                  hours=[HourlyUse(hour=at(h), use=u, readings=n) for h, u, n in hours])
        for name, hours in usage.hourly_use(rows, start=begin, end=stop).items()
    ]
    return ReadingsOut(household_id=household.id, start=at(begin), end=at(stop), sensors=sensors)


@router.get("/activity", response_model=ActivityOut, responses=BY_ID,
            summary="Signs of life per hour and kind, for the activity chart")
def activity(household: ReadableHousehold, context: Context, now: Now,
             days: Annotated[int, Query(ge=1, le=31)] = 7) -> ActivityOut:
    hours = days * 24
    start = usage.hour_floor(now) - (hours - 1) * usage.HOUR
    learn_from = now - USUAL_DAYS * 86400
    rows = context.readings.query(household_id=household.id, start=min(start, learn_from) - usage.HOUR,
                                  end=now)
    # Uses, not raw signs: the chart then counts what the detector's explanations count.
    signs = usage.uses(usage.signs_of_life(rows, _reader(context), household.id),
                       gap_s=context.settings.detector.learned.episode_gap_min * 60)
    visits = context.state.visits.for_household(household.id, start=start, end=now)
    counts = usage.activity(signs, visits, start=start, hours=hours)
    # "Usual" is the days before today: today's silence must not lower what it is judged against.
    today = datetime.fromtimestamp(now, context.tz).replace(hour=0, minute=0, second=0,
                                                            microsecond=0).timestamp()
    usual, usual_days = usage.usual_per_hour([s for s in signs if learn_from <= s.ts < today], tz=context.tz)
    last = max([s.ts for s in signs] + [v.at for v in visits], default=None)
    silence = None
    learned = context.state.rhythm.of([household.id]).get(household.id)
    if last is not None and (learned or usual_days):
        # The detector's own idea of the home's week, where it has one, so the chart, the card and
        # the alert weigh the silence alike; else the chart's own average of the days before.
        expected = (expected_uses(learned, last, now, tz=context.tz) if learned
                    else usage.expected_between(usual, last, now, tz=context.tz))
        silence = SilenceOut(since=at(last), hours=round((now - last) / 3600, 2), expected=round(expected, 1))
    return ActivityOut(household_id=household.id, start=at(start), hours=hours,
                       kinds=list(usage.SIGN_KINDS), counts=counts, usual=usual, usual_days=usual_days,
                       silence=silence)


@router.get("/timeline", response_model=TimelineOut, responses=BY_ID,
            summary="Signs of life, alerts, visits, silences, consent and colour changes, newest first")
def timeline(household: ReadableHousehold, context: Context, now: Now,
             start: datetime | None = None, end: datetime | None = None) -> TimelineOut:
    begin, stop = _period(start, end, now, 86400.0)
    state = context.state
    rows = context.readings.query(household_id=household.id, start=begin - usage.HOUR, end=stop)
    signs = usage.signs_of_life(rows, _reader(context), household.id)
    listed, _ = state.alert_list.page(AlertQuery(household_id=household.id, limit=200),
                                      viewer=None)
    alerts = [x.alert for x in listed]
    entries = [e for a in alerts for e in state.audit.for_entity("alert", a.id)]
    events = timelines.timeline(
        signs=[s for s in signs if s.ts >= begin], alerts=alerts, alert_entries=entries,
        visits=state.visits.for_household(household.id, start=begin, end=stop),
        silences=state.silences.for_household(household.id, start=begin, end=stop),
        consents=state.consent.history(household.id), start=begin, end=stop,
        staff=state.registry.all_staff(),
        household_entries=state.audit.for_entity("household", household.id),
    )
    return TimelineOut(household_id=household.id, start=at(begin), end=at(stop),
                       events=[TimelineEvent(at=at(e.at), kind=e.kind, text=e.text,
                                             details=e.details) for e in events])
