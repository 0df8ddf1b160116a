"""What reaches Gradio at all: one ASGI middleware in front of the app, and a bounded validation error.

- **Origins.** Cookies do not care about ports, so without this check any page served on this machine
  (or, on a network, any site the user visits) could call the API as the signed-in user. A browser
  request that names another origin (``Origin``), or that a page on another origin made
  (``Sec-Fetch-Site``, except a plain link the user followed), is refused; clients that are not
  browsers send neither and still need to sign in. Bound to loopback, the ``Host`` must be a loopback
  name too, so a DNS name pointed at 127.0.0.1 cannot reach the app.
- **Sign-in.** ``/login`` is throttled per user name and per client address, counting failures only (see
  ``SignInThrottle``): the password is checked here first, so a right one is never refused for its
  address. Each failure is logged with the name and address, never the password.
- **Cancel.** Gradio's ``/gradio_api/cancel`` takes any job id from anyone; here only the signed-in
  user and session that queued a job may cancel it. Its stream routes (``/gradio_api/stream/<job>`` and
  ``.../close``) need no sign-in at all and would hand any job new inputs or close it: here only the user
  who started a streaming job may send to it (the app has none, so in practice they are refused).
- **Sessions.** A Gradio session hash is random but travels in URLs (so in proxy logs), and with it Gradio
  hands over the session's state: its chat through a deep link, its queue, its heartbeat, its streams.
  Here a session belongs to the first signed-in user who uses it, and every request naming it (in the
  query, the path or a JSON body, or through a job's or a deep link's id) from anyone else is refused.
- **Uploads.** Gradio saves whatever is sent to its upload route (or given as a file input, even a URL)
  into its cache before any event can refuse it. Here only editors may send files; each user's bytes
  within a window are capped, an upload that would leave the disk below its floor is refused on its
  declared size before a byte is read, and the files the route saved are deleted minutes later.
- **Originals.** A card's "open the original" names the document (``/originals/<file name>``); here that
  becomes Gradio's own file route, whose URL would show where the file sits on the server.
- **Sign-out.** Gradio signs a user out on any ``GET /logout``, so a link or an image on any page could;
  here only a ``POST`` from the app's own origin does (the app's Sign out button).
- **What Gradio would answer with a traceback**: its named-parameter routes (``/gradio_api/call/v2/<name>``)
  for an endpoint that is not public (all of the app's), and text holding a lone UTF-16 surrogate, which
  no database or page can store, are refused here with one sentence.
- **Framing.** Every response forbids being shown in a frame of another origin: otherwise a page on
  another port could show the app, signed in, under its own and steer the user's clicks onto "Remove
  document".
"""

import asyncio
import contextlib
import json
import logging
import math
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from gradio.data_classes import FileData, ListFiles
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.auth import Access, SignInThrottle
from assistant.library import disk_refusal
from assistant.settings import Settings

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
LOGIN_PATHS = frozenset({"/login", "/login/"})
UPLOAD_PATHS = frozenset({"/gradio_api/upload", "/gradio_api/upload/"})
EDITORS_SEND_FILES = "Only editors can send files; ask whoever runs this app if you need to add a document."
CANCEL_PATHS = frozenset({"/gradio_api/cancel", "/gradio_api/cancel/"})
STREAM_PREFIX = "/gradio_api/stream/"
# Both headers: CSP's frame-ancestors for current browsers, X-Frame-Options for older ones.
NO_FRAMING = [(b"content-security-policy", b"frame-ancestors 'self'"), (b"x-frame-options", b"SAMEORIGIN")]
# Documents served as they are (a card's "open the original"): an uploaded page must never run as part of
# the app's own site, so every file is sandboxed and not sniffed, and a page or SVG is downloaded, not shown.
FILE_PREFIXES = ("/gradio_api/file=", "/gradio_api/file/")  # Gradio serves allowed files at both
SANDBOXED = [(b"content-security-policy", b"sandbox"), (b"x-content-type-options", b"nosniff")]
DOWNLOADED_SUFFIXES = (".html", ".htm", ".xhtml", ".svg")
# Where a request names a session without a JSON body: a heartbeat, a media stream, a job's results (by job).
SESSION_IN_PATH = re.compile(r"/gradio_api/(?:heartbeat/([^/]+)/?|stream/([^/]+)/[^/]+/[^/]+/.*)")
JOB_RESULTS = re.compile(r"/gradio_api/call/(?:v2/)?[^/]+/([^/]+)/?")
JOB_CALLS = re.compile(r"/gradio_api/call/(?:v2/)?[^/]+/?")
DEEP_LINK_PATHS = frozenset({"/gradio_api/deep_link", "/gradio_api/deep_link/"})
ORIGINALS_PREFIX = "/originals/"  # assistant.rendering.ORIGINALS_ROUTE
LOGOUT_PATHS = frozenset({"/logout", "/logout/"})
NAMED_PARAMETER_CALLS = re.compile(r"/gradio_api/call/v2/([^/]+)/?")
SIGN_IN_FIRST = "Sign in first."
UNSTORABLE_TEXT = "The request holds text that is not valid Unicode (a lone surrogate); nothing was done with it."
# Sessions and deep links remembered (oldest forgotten first): far more than one app has at once; Gradio's
# own session store holds 10,000.
_REMEMBERED = 100_000
_MAX_RECORDED_BODY = 4096  # a job id or a deep link's id, as JSON
# A sign-in form or a cancel request is a few hundred bytes; anything far larger is not one.
_MAX_SMALL_BODY = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_LOGGED_NAME = 64
INCORRECT = "Incorrect credentials."


class Guard:
    """ASGI middleware: installed through ``launch(app_kwargs={"middleware": [...]})``."""

    def __init__(
        self,
        app: ASGIApp,
        access: Access,
        throttle: SignInThrottle,
        uploads: "UploadLimits",
        loopback: bool,
        originals: Callable[[str], Path | None],
    ) -> None:
        self.app = app
        self.originals = originals  # a document's name -> the file the app serves for it, or None
        self.access = access
        self.throttle = throttle
        self.loopback = loopback
        self.uploads = uploads
        self.sessions = Owners()  # session hash -> the user it belongs to
        self.deep_links = Owners()  # deep link id -> the user whose session it was made from

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(headers)
        if refusal:
            log.warning("Refused %s %s from %s: %s", scope["method"], scope["path"][:100], _address(scope), refusal)
            await JSONResponse({"detail": refusal}, status_code=403)(scope, receive, send)
            return
        if scope["path"].startswith(ORIGINALS_PREFIX):
            # Which names the library holds is for signed-in users only: no 404 before sign-in.
            if self.access.required and _signed_in_user(scope["app"], headers) is None:
                await JSONResponse({"detail": SIGN_IN_FIRST}, status_code=401)(scope, receive, send)
                return
            original = self.originals(scope["path"][len(ORIGINALS_PREFIX) :])
            if original is None:
                message = "That document is not in the library (or its file is not served)."
                await JSONResponse({"detail": message}, status_code=404)(scope, receive, send)
                return
            served = FILE_PREFIXES[0] + str(original)
            scope = {**scope, "path": served, "raw_path": quote(served).encode("ascii")}
        send = _unframed(send, scope["path"])
        if scope["path"] in LOGOUT_PATHS and scope["method"] != "POST":
            message = "Sign out with the app's Sign out button."
            await JSONResponse({"detail": message}, status_code=405, headers={"Allow": "POST"})(scope, receive, send)
            return
        if scope["path"] in LOGOUT_PATHS:
            scope = {**scope, "method": "GET"}  # Gradio's own sign-out, reached only this way
        named = NAMED_PARAMETER_CALLS.fullmatch(scope["path"])
        if scope["method"] == "POST" and named and not _public_endpoint(scope["app"], named[1]):
            await _drained(receive)
            message = f"There is no public API endpoint named {named[1][:60]!r}."
            await JSONResponse({"detail": message}, status_code=404)(scope, receive, send)
            return
        user = _signed_in_user(scope["app"], headers) if self.access.required else None
        receive, payload = await _json_payload(scope, receive, headers)
        if payload is not None and not _storable(payload):
            log.warning(
                "Refused %s %s from %s: a lone surrogate.", scope["method"], scope["path"][:100], _address(scope)
            )
            await JSONResponse({"detail": UNSTORABLE_TEXT}, status_code=400)(scope, receive, send)
            return
        if self.access.required:
            sessions = self._sessions_named(scope, payload)
            if not all(self.sessions.claim(session, user) for session in sessions) or not self._deep_link_allowed(
                scope, user
            ):
                log.warning("Refused %s %s from %s: another user's session.", scope["method"], scope["path"][:100],
                            _address(scope))  # fmt: skip
                message = "This session belongs to another signed-in user; reload the page to start your own."
                await JSONResponse({"detail": message}, status_code=403)(scope, receive, send)
                return
            send = self._recording(scope, user, send)
        if not self.access.may_edit(user) and (scope["path"] in UPLOAD_PATHS or _sends_files(scope, payload)):
            log.warning("Refused %s %s from %s: %r is not an editor.", scope["method"], scope["path"][:100],
                        _address(scope), user)  # fmt: skip
            await _drained(receive)
            await JSONResponse({"detail": EDITORS_SEND_FILES}, status_code=403)(scope, receive, send)
            return
        if scope["method"] == "POST" and scope["path"] in UPLOAD_PATHS:
            await self._upload(scope, receive, send, headers, self.access.display_name(user))
        elif scope["method"] == "POST" and scope["path"] in LOGIN_PATHS and self.access.required:
            await self._sign_in(scope, receive, send)
        elif scope["method"] == "POST" and scope["path"] in CANCEL_PATHS:
            await self._cancel(scope, receive, send, headers)
        elif scope["method"] == "POST" and scope["path"].startswith(STREAM_PREFIX):
            await self._stream(scope, receive, send, headers)
        else:
            await self.app(scope, receive, send)

    def _sessions_named(self, scope: Scope, payload: dict[str, Any] | None) -> list[str]:
        """The sessions a request names: in its query, its path, its JSON body, or through a job's id."""
        path = scope["path"]
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        sessions = list(query.get("session_hash", []))
        if scope["method"] == "GET" and (named := SESSION_IN_PATH.fullmatch(path)):
            sessions.append(named[1] or named[2])
        if scope["method"] == "GET" and (job := JOB_RESULTS.fullmatch(path)):
            sessions.append(_session_of_job(scope["app"], job[1]))
        if payload is not None and isinstance(payload.get("session_hash"), str):
            sessions.append(payload["session_hash"])
        return sessions

    async def _upload(self, scope: Scope, receive: Receive, send: Send, headers: Headers, user: str) -> None:
        """Gradio's upload route for an editor: within the user's quota and the disk's floor, checked on the
        size the request declares, before a byte of it is read; the files it saved are swept later."""
        declared = headers.get("content-length", "")
        if not declared.isdigit():
            await _drained(receive)
            message = "An upload must say how large it is (Content-Length)."
            await JSONResponse({"detail": message}, status_code=411)(scope, receive, send)
            return
        cache = Path(scope["app"].uploaded_file_dir)
        refusal = self.uploads.refusal(user, int(declared), cache)
        if refusal is not None:
            status, message, retry_after = refusal
            log.warning("Refused an upload of %s bytes by %r from %s: %s", declared, user, _address(scope), message)
            await _drained(receive)
            extra = {"Retry-After": str(retry_after)} if retry_after else None
            await JSONResponse({"detail": message}, status_code=status, headers=extra)(scope, receive, send)
            return
        body = b""
        status = 0

        async def sending(message: Message) -> None:
            nonlocal body, status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and status == 200:
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    self.uploads.saved(_paths_in(body))
            await send(message)

        await self.app(scope, receive, sending)

    def _deep_link_allowed(self, scope: Scope, user: str | None) -> bool:
        """A deep link opens only for the user from whose session it was made (the app offers none to share)."""
        links = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("deep_link", [])
        return all(user is not None and self.deep_links.owner(link) == user for link in links)

    def _recording(self, scope: Scope, user: str | None, send: Send) -> Send:
        """``send``, noting whose a new deep link or a job started through ``/gradio_api/call`` is (the
        job's id is its session when the call names none)."""
        path, method = scope["path"], scope["method"]
        if user is None or not (
            (method == "GET" and path in DEEP_LINK_PATHS) or (method == "POST" and JOB_CALLS.fullmatch(path))
        ):
            return send
        status = 0
        body = b""

        async def sending(message: Message) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and status == 200 and len(body) < _MAX_RECORDED_BODY:
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    self._record(path, user, body)
            await send(message)

        return sending

    def _record(self, path: str, user: str, body: bytes) -> None:
        try:
            answer = json.loads(body)
        except ValueError:
            return
        if path in DEEP_LINK_PATHS and isinstance(answer, str) and answer:
            self.deep_links.claim(answer, user)
        elif isinstance(answer, dict) and isinstance(answer.get("event_id"), str):
            self.sessions.claim(answer["event_id"], user)

    def _refusal(self, headers: Headers) -> str | None:
        host = headers.get("host", "")
        if self.loopback and (_split(f"//{host}") or ("", 0))[0] not in LOOPBACK_HOSTS:
            return "this app answers only to this machine's own address."
        origin = headers.get("origin")
        if origin is not None:
            from_origin = _split(origin)
            if from_origin is None or from_origin != _split(f"//{host}", urlsplit(origin).scheme):
                return "requests from another site or port are refused."
        if headers.get("sec-fetch-site") in {"cross-site", "same-site"} and headers.get("sec-fetch-mode") != "navigate":
            return "requests from another site or port are refused."
        return None

    async def _sign_in(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        if body is None:
            await JSONResponse({"detail": "The sign-in request is too large."}, status_code=413)(scope, receive, send)
            return
        try:
            async with Request(scope, _replay(body, receive)).form() as form:
                username = str(form.get("username") or "").strip()
                password = str(form.get("password") or "")
        except (HTTPException, MultiPartException):
            await JSONResponse({"detail": "The sign-in request is malformed."}, status_code=400)(scope, receive, send)
            return
        address = _address(scope)
        correct = False
        wait = self.throttle.user_wait(username)
        if wait == 0:
            correct = await asyncio.to_thread(self.access.check, username, password)  # scrypt, off the loop
            wait = self.throttle.judge(username, address, correct)
        if wait > 0:
            seconds = math.ceil(wait)
            log.warning("Refused a sign-in as %r from %s: %d s to wait.", _name(username), address, seconds)
            message = f"Too many failed sign-ins: try again in {seconds} seconds."
            response = JSONResponse({"detail": message}, status_code=429, headers={"Retry-After": str(seconds)})
            await response(scope, receive, send)
        elif correct:
            await self.app(scope, _replay(body, receive), send)  # Gradio checks it again and sets the cookie
        else:
            failures = self.throttle.recent_failures(username)
            log.warning("Failed sign-in as %r from %s (%d recent failures).", _name(username), address, failures)
            await JSONResponse({"detail": INCORRECT}, status_code=400)(scope, receive, send)  # Gradio's own words

    async def _cancel(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        body = await _read_body(receive)
        if body is None:
            await JSONResponse({"detail": "The cancel request is too large."}, status_code=413)(scope, receive, send)
            return
        try:
            request = json.loads(body)
            event_id, session_hash = str(request["event_id"]), str(request["session_hash"])
        except (ValueError, TypeError, KeyError):
            await self.app(scope, _replay(body, receive), send)  # Gradio refuses it as malformed
            return
        event = _job(scope, headers, event_id)
        if event is None or event.session_hash != session_hash:
            log.warning("Refused a cancel from %s: not the session that queued the job.", _address(scope))
            message = "Only the session that started a job may cancel it."
            await JSONResponse({"detail": message}, status_code=403)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _stream(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        event = _job(scope, headers, scope["path"][len(STREAM_PREFIX) :].split("/", 1)[0])
        if event is None or not event.streaming:
            log.warning("Refused a stream request from %s: not a streaming job of theirs.", _address(scope))
            message = "Only the user who started a streaming job may send to it."
            await JSONResponse({"detail": message}, status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def refuse_malformed(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's handler for requests that fail validation: one bounded log line naming where the
    problems are (never the values sent, which may hold questions), and a short reply."""
    problems = error.errors() if isinstance(error, RequestValidationError) else []
    where = "; ".join(".".join(str(part)[:40] for part in problem["loc"]) for problem in problems[:3])
    log.warning(
        "Refused a malformed request to %s from %s: %d problems (%s).",
        request.url.path[:100], _address(request.scope), len(problems), where[:300],
    )  # fmt: skip
    return JSONResponse({"detail": "The request was malformed."}, status_code=422)


def _split(url: str, scheme: str = "http") -> tuple[str, int] | None:
    """(host name, port) of an origin or of ``//host:port``, the port defaulting by ``scheme``;
    None when it cannot be read (an origin such as "null" included)."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme or scheme)
    except ValueError:
        return None
    return ((parts.hostname or "").lower(), port) if parts.hostname and port else None


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _name(username: str) -> str:
    return username[:_MAX_LOGGED_NAME]


def _job(scope: Scope, headers: Headers, event_id: str) -> Any:
    """The queued or running job ``event_id`` in Gradio's own queue (as its cancel route reads it),
    when the signed-in user making this request started it; else None."""
    app = scope["app"]
    event = app.get_blocks()._queue.event_ids_to_events.get(event_id)
    return event if event is not None and event.username == _signed_in_user(app, headers) else None


def _unframed(send: Send, path: str) -> Send:
    """``send``, adding to the response the headers that forbid showing it in another origin's frame, and
    for a served document those that keep it from running as the app (see ``SANDBOXED``)."""
    added = list(NO_FRAMING)
    replaced: set[bytes] = set()
    if path.startswith(FILE_PREFIXES):
        added += SANDBOXED
        if unquote(path).lower().endswith(DOWNLOADED_SUFFIXES):
            added.append((b"content-disposition", b"attachment"))
            replaced.add(b"content-disposition")  # Gradio's own says "inline"; two would be refused

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [(name, value) for name, value in message.get("headers", []) if name.lower() not in replaced]
            message = {**message, "headers": [*kept, *added]}
        await send(message)

    return sending


def _signed_in_user(app: Any, headers: Headers) -> str | None:
    """The user Gradio's session cookie names (Gradio sets two, one of them for plain HTTP)."""
    cookies = Request({"type": "http", "headers": headers.raw}).cookies
    token = cookies.get(f"access-token-{app.cookie_id}") or cookies.get(f"access-token-unsecure-{app.cookie_id}")
    return app.tokens.get(token) if token else None


class UploadLimits:
    """What each user may send to Gradio's upload route (bytes within a window), the disk space that must
    stay free, and the sweep of the files it saved (see the upload settings in ``assistant.settings``)."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.quota_bytes = settings.upload_quota_bytes
        self.quota_seconds = settings.upload_quota_seconds
        self.cache_seconds = settings.upload_cache_seconds
        self.sweep_seconds = settings.upload_sweep_seconds
        self.min_free_bytes = settings.min_free_disk_bytes
        self._clock = clock
        self._sent: dict[str, deque[tuple[float, int]]] = {}  # per user: (when, bytes) within the window
        self._saved: dict[Path, float] = {}  # each file the route saved, and when
        self._sweeper: asyncio.Task[None] | None = None

    def refusal(self, user: str, size: int, directory: Path) -> tuple[int, str, int] | None:
        """None, and ``size`` counted against the user's quota; or (status, the sentence, seconds to wait)."""
        now = self._clock()
        sent = self._sent.setdefault(user, deque())
        while sent and now - sent[0][0] >= self.quota_seconds:
            sent.popleft()
        used = sum(size for _, size in sent)
        if used + size > self.quota_bytes:
            freed, wait = 0, self.quota_seconds
            for when, earlier in sent:
                freed += earlier
                if used - freed + size <= self.quota_bytes:
                    wait = when + self.quota_seconds - now
                    break
            minutes = math.ceil(wait / 60)
            message = (
                f"You have sent {used / 1e6:,.0f} MB of files in the last {self.quota_seconds / 60:,.0f} minutes, "
                f"as much as one person may: try again in {minutes} minute{'s' if minutes != 1 else ''}."
            )
            return 429, message, math.ceil(wait)
        disk = disk_refusal(directory, size, self.min_free_bytes)
        if disk is not None:
            return 507, f"{disk[0].upper()}{disk[1:]}.", 0
        sent.append((now, size))
        return None

    def saved(self, paths: list[Path]) -> None:
        """Files the route has just saved: each is deleted once ``cache_seconds`` old."""
        now = self._clock()
        self._saved.update(dict.fromkeys(paths, now))
        if paths and self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweeping())

    def sweep(self) -> None:
        now = self._clock()
        for path, when in list(self._saved.items()):
            if now - when >= self.cache_seconds:
                path.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    path.parent.rmdir()  # Gradio gives each upload a folder of its own; gone once empty
                del self._saved[path]

    async def _sweeping(self) -> None:
        """Runs while saved files are waiting, on the server's event loop (so it ends with the server)."""
        try:
            while self._saved:
                await asyncio.sleep(self.sweep_seconds)
                await asyncio.to_thread(self.sweep)
        finally:
            self._sweeper = None


class Owners:
    """Who each id (a session hash, a deep link) belongs to: the first signed-in user to use it. The
    guard runs on the server's one event loop, so no lock is needed."""

    def __init__(self) -> None:
        self._owners: OrderedDict[str, str] = OrderedDict()

    def owner(self, key: str) -> str | None:
        return self._owners.get(key)

    def claim(self, key: str, user: str | None) -> bool:
        """Whether ``user`` may use ``key``: it is theirs, or nobody's yet (then it becomes theirs if they
        are signed in)."""
        owner = self._owners.get(key)
        if owner is not None:
            self._owners.move_to_end(key)
            return owner == user
        if user is not None:
            self._owners[key] = user
            if len(self._owners) > _REMEMBERED:
                self._owners.popitem(last=False)
        return True


def _session_of_job(app: Any, event_id: str) -> str:
    """The session of a job, as Gradio's result route finds it: the live job's, the session still holding
    its id, or the id itself (a job started through ``/gradio_api/call`` with no session of its own)."""
    queue = app.get_blocks()._queue
    event = queue.event_ids_to_events.get(event_id)
    if event is not None:
        return str(event.session_hash)
    held = (session for session, ids in queue.pending_event_ids_session.items() if event_id in ids)
    return str(next(held, event_id))


async def _json_payload(scope: Scope, receive: Receive, headers: Headers) -> tuple[Receive, dict[str, Any] | None]:
    """A JSON object posted to Gradio's API, read here and handed on as it was (with the receive to read it
    from); None for any other request, or a body that is not a JSON object (Gradio refuses it as malformed).
    The body decides, not the Content-Type header: FastAPI reads JSON sent as "text/json", "APPLICATION/JSON",
    "*+json" or with no type at all. Only uploads (multipart) and forms (the sign-in) are not read here."""
    content_type = headers.get("content-type", "").lower()
    if not (
        scope["method"] == "POST"
        and scope["path"].startswith("/gradio_api/")
        and not content_type.startswith(("multipart/", "application/x-www-form-urlencoded"))
    ):
        return receive, None
    body = await _read_body(receive, limit=None) or b""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    return _replay(body, receive), payload if isinstance(payload, dict) else None


def _sends_files(scope: Scope, payload: dict[str, Any] | None) -> bool:
    """The request runs an event that takes files (Gradio saves those it is given, even from a URL, before
    the event's own code can refuse them): through the queue or a direct run by its number, or by name."""
    blocks = scope["app"].get_blocks()
    path = scope["path"]
    if scope["method"] != "POST":
        return False
    if JOB_CALLS.fullmatch(path):
        name = path.rstrip("/").rsplit("/", 1)[-1]
        functions = [fn for fn in blocks.fns.values() if fn.api_name == name]
    elif payload is not None and isinstance(payload.get("fn_index"), int):
        functions = [blocks.fns[payload["fn_index"]]] if payload["fn_index"] in blocks.fns else []
    else:
        return False
    return any(getattr(block, "data_model", None) in (FileData, ListFiles) for fn in functions for block in fn.inputs)


def _public_endpoint(app: Any, name: str) -> bool:
    """Whether an event is published under ``name`` for Gradio's named-parameter route (which reads only
    the public API's description, and fails on any other name)."""
    return any(fn.api_name == name and fn.api_visibility == "public" for fn in app.get_blocks().fns.values())


def _storable(payload: Any) -> bool:
    """Whether every string in a JSON payload is valid Unicode: ``json`` reads "\\ud800" as a lone surrogate,
    which UTF-8 (SQLite's, a page's) cannot encode."""
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _paths_in(body: bytes) -> list[Path]:
    """The files Gradio's upload route says it saved (a JSON list of paths)."""
    try:
        saved = json.loads(body)
    except ValueError:
        return []
    return [Path(path) for path in saved if isinstance(path, str)] if isinstance(saved, list) else []


async def _drained(receive: Receive) -> None:
    """The rest of a refused request's body read and dropped (nothing kept), so the client, still sending,
    reads the refusal instead of a reset connection."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _read_body(receive: Receive, limit: int | None = _MAX_SMALL_BODY) -> bytes | None:
    """The request body, or None when it is larger than ``limit`` (a small request's, by default)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if limit is not None and size > limit:
            return None
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands over ``body`` once, then waits on the real connection (for a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
