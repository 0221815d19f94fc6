"""Staff, sign-in and tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import RequestBody, at, when
from shouwang.domain.channels import StaffChannel
from shouwang.domain.delivery import Channel
from shouwang.domain.model import Role, Staff
from shouwang.storage.credentials import TokenInfo

USERNAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
WEBHOOK = "an https URL with a real host that receives their alerts as JSON POSTs"
ALLOW_HTTP = "accept a plain http webhook_url (alerts then cross the network unencrypted)"


CHANNELS = ("their channels in the order they are told; replaces the whole list (and sets webhook_url "
            "and notify_mqtt to match). A signed robot's secret left out is kept when the same robot "
            "address is already theirs")


class ChannelIn(RequestBody):
    kind: Channel
    address: str = Field(default="", max_length=1000,
                         description="the URL (webhook, wecom, dingtalk, feishu), the phone number (sms), "
                         "nothing (mqtt)")
    secret: str | None = Field(default=None, max_length=200,
                               description="a DingTalk or Feishu robot's signing secret")
    lang: Literal["zh", "en"] = "zh"
    msgtype: Literal["text", "markdown"] = Field(default="text", description="robots only")

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "kind": "dingtalk", "address": "https://oapi.dingtalk.com/robot/send?access_token=TOKEN",
        "secret": "SEC...", "lang": "zh"}]})


class ChannelOut(BaseModel):
    kind: Channel
    address: str = Field(description="a robot's token cut short: it lets anyone post to the group")
    secret: str | None = Field(description="its first characters only, when there is one")
    lang: str
    msgtype: str

    @classmethod
    def of(cls, c: StaffChannel) -> ChannelOut:
        return cls(kind=c.kind, address=c.shown_address, secret=c.shown_secret, lang=c.lang,
                   msgtype=c.msgtype)


class StaffOut(BaseModel):
    id: int
    username: str
    name: str
    role: Role
    grid_ids: list[str]
    household_ids: list[str] = Field(description="for a volunteer: the households they visit")
    phone: str | None
    webhook_url: str | None
    notify_mqtt: bool
    channels: list[ChannelOut] = Field(default_factory=list, description="how they are told, in order")
    active: bool
    warnings: list[str] = Field(default_factory=list, description="what to look at, e.g. plain http")

    model_config = {"json_schema_extra": {"examples": [{
        "id": 3, "username": "wang.fang", "name": "王芳", "role": "grid_member",
        "grid_ids": ["g-01"], "household_ids": [], "phone": "13800000000", "webhook_url": None,
        "notify_mqtt": True, "active": True}]}}

    @classmethod
    def of(cls, s: Staff, warnings: list[str] | None = None) -> StaffOut:
        return cls(id=s.id, username=s.username, name=s.name, role=s.role,
                   grid_ids=sorted(s.grid_ids), household_ids=sorted(s.household_ids),
                   phone=s.phone, webhook_url=s.webhook_url, notify_mqtt=s.notify_mqtt,
                   channels=[ChannelOut.of(c) for c in s.reached_by], active=s.active,
                   warnings=warnings or [])


class StaffIn(RequestBody):
    username: str = Field(pattern=USERNAME)
    name: str = Field(min_length=1, max_length=200)
    role: Role
    grid_ids: list[str] = Field(default_factory=list, max_length=50)
    household_ids: list[str] = Field(default_factory=list, max_length=500)
    phone: str | None = Field(default=None, max_length=64)
    webhook_url: str | None = Field(default=None, max_length=1000, description=WEBHOOK)
    allow_http: bool = Field(default=False, description=ALLOW_HTTP)
    notify_mqtt: bool = True
    channels: list[ChannelIn] | None = Field(default=None, max_length=6, description=CHANNELS)
    password: str | None = Field(default=None, min_length=10, max_length=200)

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "username": "li.na", "name": "李娜", "role": "volunteer", "household_ids": ["sim-0005"],
        "password": "a long passphrase"}]})


class StaffPatch(RequestBody):
    """Only the fields sent are changed; role, grids and households: admins only."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    grid_ids: list[str] | None = Field(default=None, max_length=50)
    household_ids: list[str] | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=64)
    webhook_url: str | None = Field(default=None, max_length=1000, description=WEBHOOK)
    allow_http: bool = Field(default=False, description=ALLOW_HTTP)
    notify_mqtt: bool | None = None
    channels: list[ChannelIn] | None = Field(default=None, max_length=6, description=CHANNELS)


class PasswordIn(RequestBody):
    new_password: str = Field(min_length=10, max_length=200)
    current_password: str | None = Field(
        default=None, max_length=200, description="needed when you change your own")

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "current_password": "the old one", "new_password": "a new long passphrase"}]})


class LoginIn(RequestBody):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)

    model_config = ConfigDict(json_schema_extra={"examples": [{"username": "wang.fang",
                                                         "password": "a long passphrase"}]})


class SessionOut(BaseModel):
    token: str = Field(description="send as 'Authorization: Bearer <token>'")
    expires_at: datetime | None
    staff: StaffOut


class TokenIn(RequestBody):
    name: str = Field(min_length=1, max_length=200, description="what uses it")
    expires_in_days: float | None = Field(default=None, gt=0, le=3650)
    password: str | None = Field(default=None, max_length=200,
                                 description="your password: needed when you are signed in with one")

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "district platform",
                                                         "expires_in_days": 365}]})


class TokenOut(BaseModel):
    id: int
    name: str
    kind: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, t: TokenInfo) -> TokenOut:
        return cls(id=t.id, name=t.name, kind=t.kind, created_at=at(t.created_at),
                   expires_at=when(t.expires_at), revoked_at=when(t.revoked_at))


class NewTokenOut(TokenOut):
    token: str = Field(description="shown once; only its hash is kept")
