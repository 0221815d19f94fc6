"""`shouwang hubs provision`: MQTT logins for hubs and Shouwang's roles, in Mosquitto's files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cli import mosquitto
from cli.commands.common import NoStore, load_settings, open_state
from shouwang.contract import topics
from shouwang.domain.errors import InvalidInput
from shouwang.settings import Settings


def add_parser(hubs: Any) -> None:
    p = hubs.add_parser(
        "provision", help="issue MQTT logins: a hub's, or (--all) every hub's and every role's",
        description="Issue a hub its MQTT password (printed once) and write its entry in Mosquitto's "
        "password file and its lines in the ACL (it may publish only under its own id). With --all: "
        "the files for the whole community, the roles (gateway, detector, dispatch, simulator) "
        "included. Then reload Mosquitto (SIGHUP) to apply them.")
    p.add_argument("hub_id", nargs="?", help="the hub (registered with `shouwang hubs add`)")
    p.add_argument("--all", action="store_true", help="every registered hub and every role")
    p.add_argument("--staff", metavar="USERNAME",
                   help="a staff member's phone app: a login staff-<staff id> that may only read their "
                        "own alerts (shouwang/v1/staff/<staff id>/alerts)")
    p.add_argument("--rotate", action="store_true",
                   help="with --all: new passwords for hubs that already have one")
    p.add_argument("--mosquitto-dir", type=Path, default=Path("mosquitto"),
                   help=f"where {mosquitto.PASSWD_FILE} and {mosquitto.ACL_FILE} are kept (default ./mosquitto)")
    p.set_defaults(handler=provision)


def provision(args: argparse.Namespace) -> int:
    if (bool(args.all) + bool(args.hub_id) + bool(args.staff)) != 1:
        raise InvalidInput("name one hub (`shouwang hubs provision h-0042`), give --all, or name a "
                           "staff member with --staff")
    settings = load_settings(args)
    folder: Path = args.mosquitto_dir
    passwd = mosquitto.read_passwd(folder / mosquitto.PASSWD_FILE)
    services = mosquitto.service_usernames(settings)
    service_names = set(services.values())
    try:
        state = open_state(args, settings)
    except NoStore:
        # docker compose's first step runs this on the host, before any store exists (found by an
        # attacker: refused, and no role could log in): the roles' logins only, hubs' kept as they are
        if not args.all:
            raise
        registered = sorted(name for name in passwd
                            if name not in service_names and not topics.STAFF_LOGIN.fullmatch(name))
        staff_logins = {name for name in passwd if topics.STAFF_LOGIN.fullmatch(name)}
        print("note: no community store here, so no hub is registered to judge: the roles' logins are "
              "written and the hubs' kept as they were; issue hubs' logins where the store is (with docker "
              "compose: docker compose run --rm -v ./mosquitto:/out api hubs provision --all --mosquitto-dir /out, "
              "then docker compose kill -s HUP mosquitto)",
              file=sys.stderr)
    else:
        try:
            registered = sorted(hub.id for hub in state.registry.hubs())
            roster = state.registry.roster()
            if args.staff:
                member = state.registry.staff_by_username(args.staff)
                if not member.active:
                    raise InvalidInput(f"staff member {args.staff} is retired")
        finally:
            state.close()
        staff_logins = {topics.staff_login(member.id) for member in roster}
    reserved = [hub_id for hub_id in registered if hub_id.lower().startswith("staff-")]
    if reserved:  # registered before the rule (found by a tester: it read staff member 2's alerts)
        raise InvalidInput(f"hub {reserved[0]} has an id that is now a staff member's app login; retire it "
                           "(POST /hubs/ID/retire) and register the device under another id before provisioning")
    taken = sorted(set(registered) & service_names)
    if taken:
        raise InvalidInput(f"hub {taken[0]} has the MQTT username of one of Shouwang's roles; register the "
                           "hub under another id, or give the role another username "
                           "(SHOUWANG_MQTT__<ROLE>__USERNAME)")
    issued: dict[str, str] = {}
    roles: dict[str, str] = {}
    if args.all:
        # a retired hub or staff member may no longer connect
        passwd = {name: hashed for name, hashed in passwd.items()
                  if name in service_names or name in registered or name in staff_logins}
        roles = _services(settings, services, passwd)
        for hub_id in registered:
            if hub_id not in passwd or args.rotate:
                issued[hub_id] = _issue(hub_id, passwd)
    elif args.staff:
        issued[topics.staff_login(member.id)] = _issue(topics.staff_login(member.id), passwd)
    else:
        if args.hub_id not in registered:
            raise InvalidInput(f"hub {args.hub_id} is not registered; register it with "
                           f"`shouwang hubs add {args.hub_id} --household ...`")
        issued[args.hub_id] = _issue(args.hub_id, passwd)
    hubs = [name for name in passwd if name in registered]
    staff_ids = [int(m.group(1)) for name in passwd
                 if name in staff_logins and (m := topics.STAFF_LOGIN.fullmatch(name))]
    mosquitto.write_private(folder / mosquitto.PASSWD_FILE, mosquitto.passwd_text(passwd))
    acl = mosquitto.acl_text(settings.mqtt.topic_prefix, hubs=hubs, services=services, staff=staff_ids)
    mosquitto.write_private(folder / mosquitto.ACL_FILE, acl)
    _say(issued, roles, services, folder)
    return 0


def _services(settings: Settings, services: dict[str, str], passwd: dict[str, str]) -> dict[str, str]:
    """Hash each role's configured password; a role without one keeps its entry or gets a new one."""
    issued = {}
    for role, username in services.items():
        configured = settings.mqtt.role(role).password
        if configured is not None:
            password = configured.get_secret_value()
            if not mosquitto.verify(password, passwd.get(username, "")):
                passwd[username] = mosquitto.password_hash(password)
        elif username not in passwd:
            issued[role] = _issue(username, passwd)
    return issued


def _issue(username: str, passwd: dict[str, str]) -> str:
    password = mosquitto.new_password()
    passwd[username] = mosquitto.password_hash(password)
    return password


def _say(hubs: dict[str, str], roles: dict[str, str], services: dict[str, str], folder: Path) -> None:
    apps = {name: password for name, password in hubs.items() if topics.STAFF_LOGIN.fullmatch(name)}
    hubs = {name: password for name, password in hubs.items() if name not in apps}
    if hubs:
        print("# hub passwords, shown once: put each in its hub's MQTT settings (username = hub id)")
        print("hub_id,password")
        for hub_id, password in sorted(hubs.items()):
            print(f"{hub_id},{password}")
    for username, password in apps.items():
        print(f"# the staff member's phone app, shown once: MQTT username {username}, password {password}; "
              "it may read only their own alerts")
    if roles:
        print("# role logins, shown once: put them in the roles' environment (e.g. .env)")
        for role, password in roles.items():
            print(f"SHOUWANG_MQTT__{role.upper()}__USERNAME={services[role]}")
            print(f"SHOUWANG_MQTT__{role.upper()}__PASSWORD={password}")
    print(f"# wrote {folder / mosquitto.PASSWD_FILE} and {folder / mosquitto.ACL_FILE}; reload Mosquitto "
          "to apply them (kill -HUP its pid, or `docker compose kill -s HUP mosquitto`)")
