"""Mosquitto's password file and ACL for a community: every hub and every Shouwang role its own login.

The password file holds `username:$7$<iterations>$<salt>$<hash>` lines
(`shouwang.contract.passwords`): what `mosquitto_passwd` 2.0 writes and Mosquitto 2.0 checks (a test
connects to a real Mosquitto with a password made here), and the embedded broker reads too. The ACL
gives each hub write access to its own topics only and each role exactly what it needs, so the
broker refuses a hub that publishes under another hub's id.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from shouwang.contract import topics
from shouwang.contract.passwords import password_hash as password_hash  # the hashes, kept in the kernel
from shouwang.contract.passwords import verify as verify
from shouwang.settings import ROLES, Settings

PASSWD_FILE = "shouwang.passwd"
ACL_FILE = "shouwang.acl"
DEFAULT_USERNAMES = {"gateway": "shouwang-gateway", "detector": "shouwang-detector",
                     "dispatch": "shouwang-dispatch", "simulator": "shouwang-simulator"}


def service_usernames(settings: Settings) -> dict[str, str]:
    """Each role's broker username: the configured one, or shouwang-<role>."""
    return {role: settings.mqtt.role(role).username or DEFAULT_USERNAMES[role] for role in ROLES}


def new_password() -> str:
    """Random, 32 characters of the URL-safe alphabet (192 bits): typed into a hub's setup once."""
    return secrets.token_urlsafe(24)


def read_passwd(path: Path) -> dict[str, str]:
    """username → hash, from a password file (absent: empty)."""
    if not path.is_file():
        return {}
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#") and ":" in line:
            username, hashed = line.split(":", 1)
            entries[username] = hashed
    return entries


def passwd_text(entries: Mapping[str, str]) -> str:
    return "".join(f"{username}:{hashed}\n" for username, hashed in sorted(entries.items()))


def acl_text(prefix: str, *, hubs: Iterable[str], services: Mapping[str, str],
             staff: Iterable[int] = ()) -> str:
    """The ACL: `services` maps a role to its username; each hub may write only under its own id;
    each of `staff` (staff ids whose phone app has a login) may read only its own alerts."""
    lines = [f"# Made by `shouwang hubs provision --all`; {prefix} is the topic prefix.", "",
             "# Shouwang's own roles, each with only what it needs."]
    rights = topics.role_rights(prefix)
    for role, username in services.items():
        lines += [f"user {username}", *(f"topic {access} {topic}" for access, topic in rights[role]), ""]
    lines += ["# Each hub (its username is its hub id) may publish only under its own id."]
    for hub_id in sorted(hubs):
        lines += [f"user {hub_id}", f"topic write {prefix}/hubs/{hub_id}/#"]
    lines += ["", "# Each staff member's phone app (username staff-<staff id>) reads only its own alerts."]
    for staff_id in sorted(staff):
        lines += [f"user {topics.staff_login(staff_id)}", f"topic read {topics.staff_topic(prefix, staff_id)}"]
    lines += [""]
    return "\n".join(lines)


def write_private(path: Path, text: str) -> None:
    """Write atomically, never readable by everyone. A file already there keeps its owner, group
    and mode (found by a tester: rewritten as root's own 0600 file, the password file Mosquitto's
    user had been given could no longer be read, and after a reload every login was refused,
    our roles' included). A new file is its writer's alone (0600): Mosquitto's user must own it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.stat() if path.exists() else None
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(0o600 if before is None else before.st_mode & 0o770)
    if before is not None and (before.st_uid, before.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.chown(tmp, before.st_uid, before.st_gid)
        except PermissionError:
            tmp.unlink()
            raise PermissionError(errno.EPERM, f"{path} belongs to uid {before.st_uid}; rewritten by this "
                                  "user, Mosquitto could no longer read it: run this as root or as its "
                                  "owner", str(path)) from None
    os.replace(tmp, path)
