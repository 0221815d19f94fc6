import os
import stat
import subprocess
from pathlib import Path

import pytest

from cli import mosquitto
from shouwang.contract import topics

MOSQUITTO_PASSWD = Path("/usr/bin/mosquitto_passwd")


def test_a_hash_is_mosquittos_pbkdf2_sha512_format_and_verifies_only_its_password() -> None:
    hashed = mosquitto.password_hash("s3cret", salt=b"0123456789ab")
    kind, iterations, salt, key = hashed.split("$")[1:]
    assert (kind, iterations, salt, len(key)) == ("7", "101", "MDEyMzQ1Njc4OWFi", 88)
    assert mosquitto.verify("s3cret", hashed)
    assert not mosquitto.verify("s3cret!", hashed)
    assert not mosquitto.verify("s3cret", "$6$not$ours")


def test_a_hash_written_by_mosquitto_passwd_verifies_here(tmp_path: Path) -> None:
    if not MOSQUITTO_PASSWD.exists():
        pytest.skip("mosquitto_passwd is not installed")
    path = tmp_path / "passwd"
    subprocess.run([str(MOSQUITTO_PASSWD), "-c", "-b", str(path), "h-0042", "their password"], check=True)
    entries = mosquitto.read_passwd(path)
    assert mosquitto.verify("their password", entries["h-0042"])
    assert not mosquitto.verify("another", entries["h-0042"])


def test_the_acl_lets_each_hub_write_only_under_its_own_id_and_each_role_only_its_part() -> None:
    acl = mosquitto.acl_text("shouwang/v1", hubs=["h-2", "h-1"],
                             services={"gateway": "gw", "dispatch": "dp"})
    assert "\nuser gw\ntopic read shouwang/v1/hubs/#\n\n" in acl
    assert "\nuser dp\ntopic write shouwang/v1/staff/+/alerts\n\n" in acl
    assert acl.index("user h-1\ntopic write shouwang/v1/hubs/h-1/#") < acl.index("user h-2")
    assert "topic write shouwang/v1/hubs/#" not in acl  # no simulator asked for: nobody writes all
    assert "%u" not in acl and "user staff-" not in acl, "no app login asked for"
    with_apps = mosquitto.acl_text("shouwang/v1", hubs=["2"], services={}, staff=[2])
    assert with_apps.rstrip().endswith("user staff-2\ntopic read shouwang/v1/staff/2/alerts")
    assert "user 2\ntopic write shouwang/v1/hubs/2/#\n\n" in with_apps


def test_the_embedded_broker_gives_a_hub_no_read_and_a_staff_app_only_its_own_alerts() -> None:
    """The embedded broker's rights for any login that is not a role (`TopicRights`)."""
    assert topics.login_rights("p", "2") == (("write", "p/hubs/2/#"),)
    assert topics.login_rights("p", "staff-2") == (("read", "p/staff/2/alerts"),)
    # found by a regression tester: a wildcard login wrote under every hub; a leading zero read staff 2's
    assert topics.login_rights("p", "staff-x") == ()
    assert topics.login_rights("p", "staff-02") == ()
    assert topics.login_rights("p", "+") == topics.login_rights("p", "#") == topics.login_rights("p", "a/b") == ()


def test_the_password_file_is_written_for_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "m" / "shouwang.passwd"
    mosquitto.write_private(path, mosquitto.passwd_text({"b": "$7$x", "a": "$7$y"}))
    assert path.read_text() == "a:$7$y\nb:$7$x\n"
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_file_rewritten_keeps_the_owner_group_and_mode_mosquitto_was_given(tmp_path: Path) -> None:
    """Found by a tester: `hubs provision` rewrote the password file as root's own 0600 file;
    after Mosquitto's reload every login was refused, the roles' included."""
    fresh = tmp_path / "new.passwd"
    mosquitto.write_private(fresh, "a:b\n")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    given = tmp_path / "shouwang.passwd"
    given.write_text("old\n")
    given.chmod(0o640)
    if os.geteuid() == 0:
        os.chown(given, 4321, 4321)  # as an operator gives it to Mosquitto's user
    owner = (given.stat().st_uid, given.stat().st_gid)
    mosquitto.write_private(given, "new\n")
    assert given.read_text() == "new\n"
    assert stat.S_IMODE(given.stat().st_mode) == 0o640 and (given.stat().st_uid, given.stat().st_gid) == owner
