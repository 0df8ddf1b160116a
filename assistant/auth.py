"""Who may sign in to the app, with which role, and how fast they may guess.

The auth file (PROMISE_AUTH_FILE) holds one ``name:role:hash`` line per user, written by
``promise-assistant users add``; passwords are kept only as salted scrypt hashes. Readers ask, find
and brief; editors also upload and remove documents. With no users configured (loopback only) the
one local user is an editor.
"""

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from assistant.errors import ConfigError
from assistant.provenance import LOCAL_USER, write_atomically
from assistant.settings import Settings

Role = Literal["reader", "editor"]
ROLES: tuple[Role, ...] = ("reader", "editor")
MIN_PASSWORD_CHARS = 8  # NIST SP 800-63B's floor; the throttle, not length rules, stops online guessing
_NAME = re.compile(r"[\w.@-]{1,64}")
# scrypt at 2^14 × 8 (16 MB, ~50 ms): the cost OWASP lists for scrypt, slow enough to make a stolen
# auth file expensive to crack, quick enough that a sign-in is not noticed.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SCRYPT_PREFIX = "scrypt"
_HASH = re.compile(r"scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*")


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    password_hash: str

    def line(self) -> str:
        return f"{self.name}:{self.role}:{self.password_hash}"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return "$".join([_SCRYPT_PREFIX, str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), *encoded])


def password_matches(password: str, password_hash: str) -> bool:
    """Compare in constant time; the cost parameters come from the hash, so they can be raised later."""
    try:
        prefix, n, r, p, salt, digest = password_hash.split("$")
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt, validate=True), n=int(n), r=int(r), p=int(p),
            dklen=len(expected), maxmem=256 * 1024 * 1024,
        )  # fmt: skip
    except ValueError:
        return False
    return prefix == _SCRYPT_PREFIX and hmac.compare_digest(actual, expected)


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ConfigError(f"'{name[:64]}' is not a usable user name: use 1-64 letters, digits, '.', '_', '-' or '@'.")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ConfigError(f"A password needs at least {MIN_PASSWORD_CHARS} characters.")
    return password


def parse_auth_file(text: str, path: Path) -> dict[str, User]:
    users: dict[str, User] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition(":")
        role, _, password_hash = rest.partition(":")
        if role not in ROLES or not _HASH.fullmatch(password_hash) or not _NAME.fullmatch(name):
            raise ConfigError(
                f"{path} line {number} is not 'name:reader|editor:hash'; add each user with "
                "'promise-assistant users add NAME --role reader|editor' (passwords are no longer stored in the file)."
            )
        users[name] = User(name, cast(Role, role), password_hash)
    return users


def read_auth_file(path: Path) -> dict[str, User]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"The auth file {path} does not exist; add a user with 'promise-assistant users add'."
        ) from None
    except OSError as error:
        raise ConfigError(f"Cannot read the auth file {path} ({error.strerror}).") from None
    return parse_auth_file(text, path)


def write_auth_file(path: Path, users: Iterable[User]) -> None:
    """Replace the file in one rename, readable by its owner only (it holds password hashes)."""
    lines = ["# Promise Assistant users: name:role:scrypt hash. Edit with 'promise-assistant users'."]
    lines += [user.line() for user in sorted(users, key=lambda user: user.name)]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, ("\n".join(lines) + "\n").encode())
    except OSError as error:
        raise ConfigError(f"Cannot write the auth file {path} ({error.strerror}).") from None


def load_users(settings: Settings) -> dict[str, User]:
    """PROMISE_AUTH_FILE's users, and PROMISE_AUTH ("user:password"), kept as one editor for a quick start."""
    users = read_auth_file(settings.auth_file) if settings.auth_file else {}
    if settings.auth:
        name, colon, password = settings.auth.partition(":")
        if not colon or not password:
            raise ConfigError("PROMISE_AUTH must be given as user:password.")
        users[check_name(name)] = User(name, "editor", hash_password(password))
    return users


class Access:
    """The users and their roles; the app asks it who may sign in and who may change the library."""

    def __init__(self, users: dict[str, User]) -> None:
        self.users = users
        # Unknown names are checked against this, so a sign-in takes as long whether or not the name exists.
        self._decoy = hash_password(secrets.token_urlsafe(16))

    @classmethod
    def from_settings(cls, settings: Settings) -> "Access":
        return cls(load_users(settings))

    @property
    def required(self) -> bool:
        return bool(self.users)

    def role(self, username: str | None) -> Role | None:
        if not self.required:
            return "editor"
        user = self.users.get(username or "")
        return user.role if user else None

    def may_edit(self, username: str | None) -> bool:
        return self.role(username) == "editor"

    def display_name(self, username: str | None) -> str:
        return username if self.required and username else LOCAL_USER

    def check(self, username: str, password: str) -> bool:
        user = self.users.get(username)
        matches = password_matches(password, user.password_hash if user else self._decoy)
        return matches and user is not None

    async def verify(self, username: str, password: str) -> bool:
        """Gradio's auth callable; scrypt runs in a thread so other requests are not held up."""
        return await asyncio.to_thread(self.check, username, password)


@dataclass
class _Failures:
    count: int
    last: float


class SignInThrottle:
    """Failed sign-ins per user name and per client address: a few are free, then each further failure
    must wait twice as long after the last, then the key is locked until a quiet lockout window has passed.

    Only failures count, and each attempt is judged once its password has been checked, in turn. A name
    that must wait is refused whatever the password, so a burst of simultaneous guesses at one name gets the
    free tries and no more, and learns nothing from the rest. A right password is never refused for its
    address alone: an office behind one NAT or proxy address signs in all at once; a wrong one from an
    address that must wait is refused (and counted).
    """

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.free = settings.signin_free_failures
        self.first_delay = settings.signin_first_delay
        self.lockout_failures = settings.signin_lockout_failures
        self.lockout_seconds = settings.signin_lockout_seconds
        self._clock = clock
        self._failures: dict[tuple[str, str], _Failures] = {}
        self._lock = threading.Lock()

    @staticmethod
    def keys(username: str, address: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("user", username[:64]), ("address", address)

    def user_wait(self, username: str) -> float:
        """Seconds the name must wait before any attempt: one refused now costs no password hashing."""
        with self._lock:
            return self._wait(("user", username[:64]), self._clock())

    def judge(self, username: str, address: str, correct: bool) -> float:
        """An attempt whose password has been checked: seconds it must wait, refused (a name that must wait,
        or a wrong password from an address that must); or 0, let through (right: the name starts afresh,
        the address keeps its other failures; wrong: counted against both)."""
        with self._lock:
            now = self._clock()
            self._forget_expired(now)
            user_key, address_key = self.keys(username, address)
            wait = self._wait(user_key, now)
            if wait > 0:
                return wait
            if correct:
                self._failures.pop(user_key, None)
                return 0.0
            wait = self._wait(address_key, now)
            for key in (user_key, address_key):
                failures = self._failures.setdefault(key, _Failures(0, now))
                failures.count, failures.last = failures.count + 1, now
            return wait

    def recent_failures(self, username: str) -> int:
        with self._lock:
            failures = self._failures.get(("user", username[:64]))
            return failures.count if failures else 0

    def _wait(self, key: tuple[str, str], now: float) -> float:
        failures = self._failures.get(key)
        if failures is None or now - failures.last >= self.lockout_seconds:
            return 0.0
        if failures.count >= self.lockout_failures:
            return failures.last + self.lockout_seconds - now
        if failures.count >= self.free:
            delay = min(self.first_delay * 2 ** (failures.count - self.free), self.lockout_seconds)
            return max(0.0, failures.last + delay - now)
        return 0.0

    def _forget_expired(self, now: float) -> None:
        """Keeps the table small: guesses at many user names cost memory only for a window."""
        for key in [key for key, failures in self._failures.items() if now - failures.last >= self.lockout_seconds]:
            del self._failures[key]


def run_users_command(path: Path | None, action: str, name: str | None, role: str | None) -> str:
    """The ``users`` command: add (or re-add, to change a password or role), remove or list who may sign in.
    Returns what to tell the operator; the new password is read by ``_new_password``."""
    if path is None:
        raise ConfigError("Say which auth file to change: set PROMISE_AUTH_FILE, or pass --file.")
    users = read_auth_file(path) if path.exists() else {}
    if action == "list":
        return "\n".join(f"{user.name}\t{user.role}" for user in sorted(users.values(), key=lambda user: user.name))
    name = check_name(name or "")
    if action == "remove":
        if users.pop(name, None) is None:
            raise ConfigError(f"{name} is not a user in {path}.")
        write_auth_file(path, users.values())
        return f"Removed {name} from {path}; restart the app for it to take effect."
    replaced = name in users
    users[name] = User(name, cast(Role, role), hash_password(check_password(_new_password(name))))
    write_auth_file(path, users.values())
    return f"{'Updated' if replaced else 'Added'} {name} ({role}) in {path}; restart the app for it to take effect."


def _new_password(name: str) -> str:
    """Typed twice at a terminal (never echoed), or the first line of stdin from a script."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    password = getpass.getpass(f"Password for {name}: ")
    if getpass.getpass("The same again: ") != password:
        raise ConfigError("The two passwords differ; nothing was changed.")
    return password
