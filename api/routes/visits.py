"""The five visits (五色五访) due and overdue, and colour decisions: raise, lower, or keep."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Context, CurrentStaff, Now, StateDep, VisibleHousehold, require
from api.routes.households import card
from api.schemas.common import AUTHED, CHANGES
from api.schemas.households import HouseholdOut
from api.schemas.visits import ColourChangeIn, SuggestionDeclineIn, SuggestionOut, VisitDueOut
from api.trail import actor
from shouwang.domain import tier_advice
from shouwang.domain.model import Tier
from shouwang.domain.visits_due import visits_due

router = APIRouter(tags=["visits"])


@router.get("/visits/overdue", response_model=list[VisitDueOut], responses=AUTHED,
            summary="Overdue visits of the households you look after, most overdue first")
def overdue_visits(staff: CurrentStaff, state: StateDep, context: Context, now: Now) -> list[VisitDueOut]:
    homes = {h.id: h for h in state.registry.households(viewer=staff)}
    care = context.settings.care
    dues = visits_due(homes.values(), state.visits.last_by_household(), state.registry.roster(),
                      {t: care.visit_every_s(t) for t in Tier}, now=now)
    return [VisitDueOut.of(d, homes[d.household_id]) for d in dues if d.overdue]


@router.get("/colour-suggestions", response_model=list[SuggestionOut], responses=AUTHED,
            summary="Open colour suggestions for the households you look after")
def colour_suggestions(staff: CurrentStaff, state: StateDep) -> list[SuggestionOut]:
    mine = [h.id for h in state.registry.households(viewer=staff)]
    return [SuggestionOut.of(s) for s in state.care.open_suggestions(mine).values()]


@router.post("/households/{household_id}/colour", response_model=HouseholdOut, responses=CHANGES,
             summary="Change the household's colour, saying why (its own staff may raise it; leaders "
                     "also lower it); answers an open colour suggestion")
def change_colour(household: VisibleHousehold, body: ColourChangeIn, staff: CurrentStaff,
                  state: StateDep, context: Context, now: Now) -> HouseholdOut:
    to = Tier.parse(body.colour)
    tier_advice.check_tier_change(household, to, body.reason)
    require(tier_advice.may_change_tier(staff, household, to),
            "your role may raise this household's colour but not lower it; ask a duty leader")
    state.care.change_tier(household, to, reason=body.reason.strip(), actor=actor(staff), now=now)
    return card(state, household.id, staff, at=(now, context.tz), care=context.settings.care)


@router.post("/households/{household_id}/colour-suggestion/decline", response_model=HouseholdOut,
             responses=CHANGES, summary="Keep the colour: decline the open colour suggestion, saying why")
def decline_suggestion(household: VisibleHousehold, body: SuggestionDeclineIn, staff: CurrentStaff,
                       state: StateDep, context: Context, now: Now) -> HouseholdOut:
    require(staff.role.sees_readings, "volunteers do not decide colours; the household's grid member does")
    state.care.decline(household.id, reason=body.reason.strip(), actor=actor(staff), now=now)
    return card(state, household.id, staff, at=(now, context.tz), care=context.settings.care)
