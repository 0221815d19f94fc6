"""MQTT logins' password hashes as Mosquitto keeps them: `$7$<iterations>$<salt>$<key>`,
PBKDF2-HMAC-SHA512 with a 12-byte salt and a 64-byte key, both base64. `shouwang hubs provision`
writes them (`cli.mosquitto`), Mosquitto 2.0 checks them, and so does the embedded broker
(`shouwang.broker.PasswordFile`), so one password file serves either broker."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

ITERATIONS = 101
"""mosquitto_passwd 2.0's default; a hub's login is checked at every connect."""
SALT_BYTES = 12


def password_hash(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """`$7$...`: Mosquitto's PBKDF2-SHA512 password hash."""
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    key = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def verify(password: str, hashed: str) -> bool:
    """Whether `password` matches a `$7$` hash (as Mosquitto would decide)."""
    try:
        _, kind, iterations, salt, key = hashed.split("$")
        if kind != "7":
            return False
        expected = base64.b64decode(key)
        got = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


class MosquittoHasher:
    """`$7$` hashes for pwdlib, which the embedded broker's password file plugin verifies with."""

    @classmethod
    def identify(cls, hash: str | bytes) -> bool:
        return (hash.decode() if isinstance(hash, bytes) else hash).startswith("$7$")

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        return password_hash(password.decode() if isinstance(password, bytes) else password, salt=salt)

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        return verify(password.decode() if isinstance(password, bytes) else password,
                      hash.decode() if isinstance(hash, bytes) else hash)

    def check_needs_rehash(self, hash: str | bytes) -> bool:
        return False
