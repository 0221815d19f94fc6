"""Webhook addresses and channels: what may be entered as a staff member's receiver, checked where
it is entered.

One pure check serves every entrance (CLI, API, imports) and dispatch itself, so an address that can
never be delivered to is refused where the mistake is made, not found out when an elder's alert fires.
`check_channel` extends it to every channel kind (a robot's URL must carry its token, a phone number
must be one, a secret only where the service signs), `parse_channel` reads the CLI's and the CSV's
`KIND:ADDRESS#OPTIONS` form.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qs, urlsplit

from shouwang.domain.channels import LANGUAGES, MSGTYPES, ROBOTS, SIGNED_ROBOTS, StaffChannel, mobile_problem
from shouwang.domain.delivery import Channel
from shouwang.domain.errors import InvalidInput

MAX_URL_LENGTH = 1000
"""The staff table's column width."""
EXAMPLE = "https://example.org/hooks/wang"
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_CONJOINING_JAMO = ((0x1100, 0x11FF), (0xA960, 0xA97F), (0xD7B0, 0xD7FF))
_PLACEHOLDERS = ("…", "<", ">", "{", "}")


class InvalidWebhook(InvalidInput):
    """A webhook address that no notification could ever reach."""


@dataclass(frozen=True, slots=True)
class WebhookAddress:
    url: str
    plain_http: bool
    """Sent unencrypted: anyone on the way can read the elder's details."""

    @property
    def receiver(self) -> str:
        """host:port, the unit one hanging receiver can block (dispatch limits its in-flight)."""
        return receiver_of(self.url)


def check_webhook_url(url: str, *, allow_http: bool) -> WebhookAddress:
    """The address if it can be delivered to: http(s), a real host; plain http only if allowed."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhook(f"webhook address is {len(url)} characters; at most {MAX_URL_LENGTH}")
    bad = next((c for c in url if c.isspace() or not c.isprintable()), None)
    if bad is not None:
        raise InvalidWebhook(f"webhook {url!r} contains {bad!r} at position {url.index(bad)}; "
                             f"give the address without spaces, e.g. {EXAMPLE}")
    if any(p in url for p in _PLACEHOLDERS):
        raise InvalidWebhook(f"webhook {url!r} looks like a placeholder; give the receiver's real "
                             f"address, e.g. {EXAMPLE}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. a bracketed host that is not an IPv6 address
        raise InvalidWebhook(f"webhook {url!r} is not a URL ({exc}), e.g. {EXAMPLE}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        raise InvalidWebhook(f"webhook {url!r} is not an http(s) URL, e.g. {EXAMPLE}")
    _check_host(url, parts)
    if scheme == "http" and not allow_http:
        raise InvalidWebhook(f"webhook {url!r} is plain http: alerts (names, addresses) would cross "
                             "the network unencrypted; use https, or allow http explicitly "
                             "(--allow-http, or allow_http in the API)")
    return WebhookAddress(url=url, plain_http=scheme == "http")


def _check_host(url: str, parts: SplitResult) -> None:
    if "@" in parts.netloc:
        raise InvalidWebhook(f"webhook {url!r} carries a user name or password, which would show in "
                             "lists and logs; give the address without it (every POST is signed)")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise InvalidWebhook(f"webhook {url!r} has a port that is not a number from 1 to 65535")
    host = parts.hostname or ""
    if not host:
        raise InvalidWebhook(f"webhook {url!r} names no host, e.g. {EXAMPLE}")
    if parts.netloc.startswith("["):
        try:
            literal: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidWebhook(f"webhook {url!r}: [{host}] is not an IPv6 address") from None
        _check_literal(url, literal)
        return
    if _NUMERIC_HOST.match(host):
        try:
            literal = ipaddress.IPv4Address(host)
        except ValueError:  # 2130706433, 127.1, 0x7f.1: what a resolver reads as an address
            raise InvalidWebhook(f"webhook {url!r}: {host!r} is not an address written as four numbers "
                                 "(e.g. 10.0.0.5) nor a host name") from None
        _check_literal(url, literal)
        return
    labels = host.removesuffix(".").split(".")
    if not all(_host_label(label, idna=not host.isascii()) for label in labels):
        raise InvalidWebhook(f"webhook {url!r}: {host!r} is not a host name; give the receiver's "
                             f"real address, e.g. {EXAMPLE}")


_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]*))*\.?$", re.IGNORECASE)
"""A host a resolver would read as an IPv4 address, in any of inet_aton's forms."""


def _check_literal(url: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    """Refuse an address that is never a receiver. Found by a tester: any staff member could set
    their channel to 169.254.169.254 (a cloud's metadata service) and read its answer back in the
    delivery's error."""
    mapped = getattr(address, "ipv4_mapped", None)
    address = mapped or address
    if not address.is_loopback and (address.is_link_local or address.is_unspecified or address.is_multicast
                                    or address.is_reserved):
        raise InvalidWebhook(f"webhook {url!r}: {address} is a link-local, unspecified, multicast or "
                             "reserved address, never a receiver")


def internal_host(url: str, *, addresses_of: Callable[[str], Sequence[str]] | None = None) -> str | None:
    """Why `url` points inside the machine or its network (a loopback, private, shared or
    link-local address, localhost, or a name `addresses_of` resolves to one), if it does: such an
    address is for an administrator to set, not a staff member's own channel (a way to make
    dispatch reach internal services). Found by a regression tester: names (`vm`, from
    /etc/hosts; `127.0.0.1.nip.io`) were not resolved; the API resolves them
    (`api.receivers`). A name that resolves to nothing is let through (it can reach nothing); one
    whose answer changes later is not caught."""
    host = (urlsplit(url).hostname or "").removesuffix(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is this machine"
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if addresses_of is None:
            return None
        addresses = [ipaddress.ip_address(a.split("%")[0]) for a in addresses_of(host)]
    for address in addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_loopback or address.is_private or address.is_link_local or address.is_reserved \
                or address in _SHARED:
            return f"{host} is {address}, a loopback, private or shared address"
    return None


_SHARED = ipaddress.ip_network("100.64.0.0/10")
"""Carrier-grade NAT: inside a provider's network, not a public receiver."""


def _host_label(label: str, *, idna: bool) -> bool:
    """A DNS label. In a non-ASCII host name every label must also pass IDNA 2008 (the HTTP
    client's), stricter than the standard library's IDNA 2003 ("·", "ª", "_" are refused)."""
    if label.isascii():
        return bool(_LABEL.match(label)) and not (idna and ("_" in label or label[2:4] == "--"))
    if label[0] == "-" or label[-1] == "-" or unicodedata.normalize("NFKC", label.casefold()) != label:
        return False
    if not all(c == "-" or unicodedata.category(c) in ("Ll", "Lo", "Nd") for c in label):
        return False
    if any(lo <= ord(c) <= hi for c in label for lo, hi in _CONJOINING_JAMO):
        return False
    if any(unicodedata.bidirectional(c) in ("R", "AL", "AN") for c in label):
        return False  # right-to-left labels carry rules of their own; none seen in our communities
    try:
        return bool(_LABEL.match(label.encode("idna").decode("ascii")))
    except UnicodeError:
        return False


def receiver_of(url: str) -> str:
    """host:port of an address, lowercased; the address itself if it does not parse."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return url
    return f"{(parts.hostname or '').lower()}:{port}"


MAX_CHANNELS = 6
_PHONE = re.compile(r"^\+?[0-9]{5,20}$")
_OPTIONS = ("secret", "lang", "msgtype")
CHANNEL_EXAMPLES = {
    Channel.WEBHOOK: "webhook:https://example.org/hooks/wang",
    Channel.WECOM: "wecom:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY",
    Channel.DINGTALK: "dingtalk:https://oapi.dingtalk.com/robot/send?access_token=TOKEN#SECRET",
    Channel.FEISHU: "feishu:https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN#SECRET",
    Channel.SMS: "sms:+8613800000000",
    Channel.MQTT: "mqtt",
}
_ROBOT_TOKEN_IN = {Channel.WECOM: "key", Channel.DINGTALK: "access_token"}


def check_channel(kind: Channel, address: str = "", *, secret: str | None = None, lang: str = "zh",
                  msgtype: str = "text", allow_http: bool) -> StaffChannel:
    """The channel if a notification could reach it; InvalidWebhook saying what to fix if not."""
    example = CHANNEL_EXAMPLES[kind]
    address = address.strip()
    if kind is Channel.MQTT:
        if address:
            raise InvalidWebhook(f"an mqtt channel takes no address (their topic follows from their id); "
                                 f"give it as {example!r}")
    elif kind is Channel.SMS:
        number = re.sub(r"[\s-]", "", address)
        if not _PHONE.match(number):
            raise InvalidWebhook(f"sms channel {address!r} is not a phone number, e.g. {example!r}")
        short = mobile_problem(number)
        if short is not None:
            raise InvalidWebhook(f"sms channel {address!r}: {short}")
        address = number
    else:
        _check_robot_url(kind, check_webhook_url(address, allow_http=allow_http).url, example)
    if secret is not None and kind not in SIGNED_ROBOTS:
        raise InvalidWebhook(f"a {kind.value} channel takes no secret (only dingtalk and feishu robots "
                             "sign; the generic webhook is signed with the community's secret)")
    if secret is not None and (not secret or len(secret) > 200
                               or any(c.isspace() or not c.isprintable() for c in secret)):
        raise InvalidWebhook(f"the {kind.value} robot's secret must be 1-200 characters without spaces, "
                             "as its security settings page shows it")
    if lang not in LANGUAGES:
        raise InvalidWebhook(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    if msgtype not in MSGTYPES or (msgtype != "text" and kind not in ROBOTS):
        raise InvalidWebhook(f"msgtype {msgtype!r}: robots take {' or '.join(MSGTYPES)}, other "
                             "channels text only")
    return StaffChannel(kind, address, secret, lang, msgtype)


FAMILY_CHANNELS = (Channel.SMS, Channel.WEBHOOK)
"""How a relative is reached: a text through the community's SMS gateway, or a webhook (a family
app, or a gateway of their own)."""


def check_family_channel(kind: str, address: str) -> tuple[Channel, str]:
    """A family contact's channel and address, the phone number normalised like a staff member's
    `sms:` channel; InvalidWebhook saying what to fix if nothing could reach them there."""
    try:
        channel = Channel(kind.strip().lower())
    except ValueError:
        channel = None
    if channel not in FAMILY_CHANNELS:
        raise InvalidWebhook(f"a family contact is reached by {' or '.join(c.value for c in FAMILY_CHANNELS)}, "
                             f"not {kind[:40]!r}")
    if channel is Channel.SMS:
        return channel, check_channel(Channel.SMS, address, allow_http=False).address
    # Plain http stays allowed here, as `family add --webhook` always allowed it.
    return channel, check_webhook_url(address.strip(), allow_http=True).url


def _check_robot_url(kind: Channel, url: str, example: str) -> None:
    """A robot URL without its token is a copy-paste cut short: refuse it here, not at the alert."""
    parts = urlsplit(url)
    if kind in _ROBOT_TOKEN_IN:
        name = _ROBOT_TOKEN_IN[kind]
        if not any(parse_qs(parts.query).get(name, [])):
            raise InvalidWebhook(f"{kind.value} robot address {url!r} has no {name}=...; copy the whole "
                                 f"webhook address from the robot's settings, e.g. {example!r}")
    elif kind is Channel.FEISHU:
        token = parts.path.rsplit("/hook/", 1)[-1] if "/hook/" in parts.path else ""
        if not token or "/" in token:
            raise InvalidWebhook(f"feishu bot address {url!r} does not end in /hook/TOKEN; copy the "
                                 f"whole webhook address from the bot's settings, e.g. {example!r}")


def parse_channel(spec: str, *, allow_http: bool, lang: str | None = None) -> StaffChannel:
    """`KIND:ADDRESS[#OPTIONS]`, OPTIONS a bare secret or `secret=S&lang=en&msgtype=markdown`."""
    kind_text, _, rest = spec.strip().partition(":")
    try:
        kind = Channel(kind_text.strip().lower())
    except ValueError:
        kinds = ", ".join(c.value for c in Channel)
        raise InvalidWebhook(f"channel {spec[:80]!r} does not start with a kind ({kinds}), e.g. "
                             f"{CHANNEL_EXAMPLES[Channel.WECOM]!r}") from None
    address, _, fragment = rest.partition("#")
    options: dict[str, str] = {}
    for part in fragment.split("&") if fragment else []:
        key, sep, value = part.partition("=")
        if sep and key in _OPTIONS:
            options[key] = value
        elif "secret" not in options:
            options["secret"] = part  # a bare secret, as the robot's settings page shows it
        else:
            raise InvalidWebhook(f"channel option {part[:40]!r} is not one of {', '.join(_OPTIONS)} "
                                 "(give options as #secret=S&lang=en&msgtype=markdown)")
    return check_channel(kind, address, secret=options.get("secret"),
                         lang=options.get("lang") or lang or "zh",
                         msgtype=options.get("msgtype") or "text", allow_http=allow_http)


def check_channels(channels: Iterable[StaffChannel]) -> tuple[StaffChannel, ...]:
    """A whole list: each kind at most once (one delivery per kind and person), at most six."""
    listed = tuple(channels)
    kinds = [c.kind for c in listed]
    twice = sorted({k.value for k in kinds if kinds.count(k) > 1})
    if twice:
        raise InvalidWebhook(f"{', '.join(twice)} is listed twice; a staff member has at most one "
                             "channel of each kind")
    if len(listed) > MAX_CHANNELS:
        raise InvalidWebhook(f"{len(listed)} channels; at most {MAX_CHANNELS}")
    return listed
