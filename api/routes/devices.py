"""A household's off-the-shelf devices, for the installer: what is mapped, when each last spoke,
its battery, and the devices its bridges spoke of that nobody has mapped yet."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Context, ReadableHousehold
from api.schemas.common import BY_ID, at
from api.schemas.devices import DeviceOut, DevicesOut
from shouwang.domain.devices import EVERY_ACTION, DeviceMap, DeviceSighting
from shouwang.domain.model import SensorKind

router = APIRouter(prefix="/households/{household_id}", tags=["households"])


def _press(entry: DeviceMap) -> str | None:
    if entry.kind is not SensorKind.BUTTON:
        return None
    if EVERY_ACTION in entry.fine_actions:
        return "fine"
    return "help" if not entry.fine_actions else f"fine: {', '.join(sorted(entry.fine_actions))}; else help"


def _out(hub_id: str, device: str, entry: DeviceMap | None, seen: DeviceSighting | None) -> DeviceOut:
    return DeviceOut(
        hub_id=hub_id, device=device, bridge=(entry.bridge if entry else None) or (seen.bridge if seen else None),
        sensor=entry.sensor if entry else None, kind=entry.kind.value if entry else None,
        press=_press(entry) if entry else None,
        first_message_at=at(seen.first_seen_at) if seen else None,
        last_message_at=at(seen.last_seen_at) if seen and seen.messages else None,
        messages=seen.messages if seen else 0, battery=seen.battery if seen else None,
        online=seen.online if seen else None)


@router.get("/devices", response_model=DevicesOut, responses=BY_ID,
            summary="The household's mapped devices (last message, battery) and unmapped ones waiting")
def devices(household: ReadableHousehold, context: Context) -> DevicesOut:
    hub_ids = [h.id for h in context.state.registry.hubs([household.id])]
    mapped = [m for m in context.state.devices.map() if m.hub_id in hub_ids]
    sightings = context.state.devices.sightings(hub_ids)
    seen = {(s.hub_id, s.device): s for s in sightings}
    names = {(m.hub_id, m.entry.device) for m in mapped}
    return DevicesOut(
        household_id=household.id,
        mapped=[_out(m.hub_id, m.entry.device, m.entry, seen.get((m.hub_id, m.entry.device))) for m in mapped],
        unmapped=[_out(s.hub_id, s.device, None, s) for s in sightings if (s.hub_id, s.device) not in names])
