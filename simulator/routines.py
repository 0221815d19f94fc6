"""The space of routines simulated homes are drawn from: not one kind of elder.

Each kind is a region of the routine parameters (`simulator.routine.Profile`); a home of a kind
draws its own values from that region with its own seed, so two early risers differ as two
real ones would. The kinds, and what makes them hard for a detector:

| kind | routine |
|---|---|
| classic | up about 06:20, to bed about 21:40, a morning outing most days, nap, TV |
| early_riser | up about 05:00, to bed about 20:20 |
| late_riser | up about 08:50, to bed about 23:40 |
| long_night | to bed about 20:25, up about 08:05, no trip to the toilet at night (often over 12 h of silence) |
| long_night_toilet | the same nights, with one or two trips to the toilet |
| napper | a nap of 1.5-3 h after lunch every day |
| outgoer | out most mornings for 2-5 h, often again in the afternoon for 1-3 h |
| traveller | away for 2-4 days (door out, door back, nothing announced) every 10-20 days |
| sparse | one or two uses a morning: few flushes, no kettle, no TV, cooks once a day |
| weekend | up 1-2 h later on Saturdays and Sundays; most Sundays out all day with family |
| irregular | getting up and going to bed vary by about an hour; outings at any hour |
| water_only | a home with only a water meter (no power, gas or door reports) |
| motion | the classic routine, with a motion sensor in the hall as well (`routine.movements`): a dense home |
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from simulator.routine import Profile

Draw = Callable[[np.random.Generator], dict[str, object]]


def _nights(bed: float, wake: float, toilet: tuple[float, float]) -> Draw:
    def draw(rng: np.random.Generator) -> dict[str, object]:
        return {"sleep_h": float(rng.normal(bed, 0.3)), "wake_h": float(rng.normal(wake, 0.3)),
                "night_toilet": float(rng.uniform(*toilet))}
    return draw


def _early(rng: np.random.Generator) -> dict[str, object]:
    return {"wake_h": float(rng.normal(5.0, 0.3)), "sleep_h": float(rng.normal(20.3, 0.3))}


def _late(rng: np.random.Generator) -> dict[str, object]:
    return {"wake_h": float(rng.normal(8.8, 0.4)), "sleep_h": float(rng.normal(23.6, 0.4))}


def _napper(rng: np.random.Generator) -> dict[str, object]:
    return {"nap": True, "nap_h": (1.5, float(rng.uniform(2.2, 3.0)))}


def _outgoer(rng: np.random.Generator) -> dict[str, object]:
    return {"outing_prob": float(rng.uniform(0.8, 0.95)), "outing_h": (2.0, 5.0),
            "afternoon_outing_prob": float(rng.uniform(0.3, 0.6)),
            "afternoon_outing_h": (1.0, 3.0)}


def _traveller(rng: np.random.Generator) -> dict[str, object]:
    return {"trip_every_days": float(rng.uniform(10, 20)), "trip_days": (2, 4),
            "trip_seed": int(rng.integers(2**31))}


def _sparse(rng: np.random.Generator) -> dict[str, object]:
    return {"flushes_per_day": float(rng.uniform(2.5, 4.0)),
            "night_toilet": float(rng.uniform(0.0, 0.5)),
            "taps_per_day": float(rng.uniform(0.3, 1.0)), "meal_hours": (11.6,),
            "morning_routine": False, "tv": False,
            "shower_every_days": float(rng.uniform(3.0, 5.0))}


def _weekend(rng: np.random.Generator) -> dict[str, object]:
    return {"weekend_shift_h": float(rng.uniform(1.0, 2.0)),
            "weekend_outing_prob": float(rng.uniform(0.6, 0.9))}


def _irregular(rng: np.random.Generator) -> dict[str, object]:
    return {"wake_sd": float(rng.uniform(0.8, 1.2)), "sleep_sd": float(rng.uniform(0.8, 1.2)),
            "irregular_outings": float(rng.uniform(0.8, 1.6)), "outing_h": (0.5, 3.0)}


def _water_only(rng: np.random.Generator) -> dict[str, object]:
    return {"sensors": ("water",)}


def _motion(rng: np.random.Generator) -> dict[str, object]:
    return {"sensors": ("water", "electricity", "gas", "door", "motion"),
            "motion_per_h": float(rng.uniform(2.0, 6.0))}


KINDS: dict[str, Draw] = {
    "classic": lambda rng: {},
    "early_riser": _early,
    "late_riser": _late,
    "long_night": _nights(20.4, 8.1, (0.0, 0.0)),
    "long_night_toilet": _nights(20.4, 8.1, (1.0, 2.0)),
    "napper": _napper,
    "outgoer": _outgoer,
    "traveller": _traveller,
    "sparse": _sparse,
    "weekend": _weekend,
    "irregular": _irregular,
    "water_only": _water_only,
    "motion": _motion,
}


def draw_profile(kind: str, rng: np.random.Generator) -> Profile:
    """A home of `kind`: the classic parameters drawn, then the kind's own drawn over them."""
    if kind not in KINDS:
        raise ValueError(f"unknown routine kind {kind!r}; use one of {', '.join(KINDS)}")
    base = Profile.draw(rng)
    return dataclasses.replace(base, kind=kind, **KINDS[kind](rng))  # type: ignore[arg-type]
