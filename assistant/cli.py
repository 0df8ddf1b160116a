"""The ``promise-assistant`` command: a thin shell over ingest, retrieval and evaluation."""

import argparse
import json
import logging
import signal
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from assistant.errors import PromiseError
from assistant.models import SearchFilters, SearchResult
from assistant.retrieval import validate_query
from assistant.settings import Settings, load_settings
from assistant.wiring import build_answerer, build_assistant, build_library, build_retriever, open_chunk_store


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.pipeline import ingest_paths

    store = open_chunk_store(settings, rebuild=args.rebuild)
    # By default the seeds and the documents uploaded in the app (which --rebuild must not lose).
    defaults = [settings.seeds_dir] + ([settings.upload_dir] if settings.upload_dir.is_dir() else [])
    paths = [Path(path) for path in args.paths] or defaults
    report = ingest_paths(store, paths, settings, progress=not args.quiet)
    for failure in report.failures:
        print(f"skipped {failure}", file=sys.stderr)
    print(report.summary())
    return 1 if report.nothing_ingested else 0


def _filters(args: argparse.Namespace) -> SearchFilters:
    return SearchFilters(
        source=args.source,
        event=args.event,
        organisation=args.organisation,
        date_from=args.date_from,
        date_to=args.date_to,
    )


def _print_result(result: SearchResult) -> None:
    meta = result.passage.metadata
    print(f"[{result.rank}] {meta.title}" + (f" · {meta.pages}" if meta.pages else ""))
    print(f"    {meta.who or meta.section or ''}  ·  {meta.source}  ·  score {result.score:.4f}")
    for line in result.passage.body.splitlines()[:6]:
        print(f"    {line[:160]}")
    print()


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    retriever = build_retriever(settings)
    results = retriever.search(args.query, k=args.k, filters=_filters(args))
    if args.json:
        print(json.dumps({"query": args.query, "results": [r.to_json() for r in results]}, ensure_ascii=False))
        return 0
    if not results:
        print("No passages found." if len(retriever) else "The store is empty: run 'promise-assistant ingest' first.")
    for result in results:
        _print_result(result)
    return 0


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    entries = sorted(open_chunk_store(settings).manifest().values(), key=lambda entry: entry.source)
    if args.json:
        rows = [
            {k: v for k, v in asdict(e).items() if k != "chunk_ids"} | {"chunks": len(e.chunk_ids)} for e in entries
        ]
        print(json.dumps({"documents": rows}, ensure_ascii=False))
        return 0
    if not entries:
        print("The store is empty: run 'promise-assistant ingest' first.")
    for entry in entries:
        print(f"{entry.title:<50} {len(entry.chunk_ids):>5} chunks  {entry.date or '—':<10}  {entry.source}")
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.pipeline import remove_document

    removed = remove_document(open_chunk_store(settings), args.source)
    print(f"Removed {args.source}: {removed} chunks.")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.evaluation import run_evaluation

    cases = Path(args.cases) if args.cases else None
    return run_evaluation(
        settings, cases, k=args.k, baseline=args.baseline, answers=not args.retrieval_only, totals_only=args.totals
    )


def cmd_repl(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.answer.answering import DoneEvent, TextEvent

    answerer = build_answerer(settings)
    print(
        f"Promise Assistant ({answerer.generator}, {len(answerer.retriever)} passages). "
        "Ask about the notes; follow-ups use the conversation. An empty line or Ctrl-D quits."
    )
    history: list[dict[str, str]] = []
    while True:
        try:
            question = input("\nquestion> ").strip()
        except EOFError:
            return 0
        if not question:
            return 0
        try:
            for event in answerer.stream(question, history):
                if isinstance(event, TextEvent):
                    print(event.text, end=" ", flush=True)
                elif isinstance(event, DoneEvent):
                    answer = event.answer
                    print("\n" if answer.answered else f"\n{answer.text}\n")
                    if answer.notice:
                        print(f"({answer.notice})")
                    for citation in answer.citations:
                        print(f"  {citation.label()}")
                    history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
        except PromiseError as error:
            print(error)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    # No calls home from an offline office machine: the app's Blocks are made with analytics_enabled=False.
    from assistant.app import build_ui, check_binding, launch

    settings = settings.model_copy(
        update={key: value for key, value in (("host", args.host), ("port", args.port)) if value is not None}
    )
    check_binding(settings)  # before loading any model: a refused start should be quick
    # SIGTERM ends the app as Ctrl-C does, through the exit handlers that stop a local model server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    answerer = build_answerer(settings)
    library = build_library(settings, answerer.retriever)
    print(f"{len(library.documents())} documents, {len(answerer.retriever)} passages; answers by {answerer.generator}.")
    print(f"Promise Assistant: http://{settings.host}:{settings.port}  (Ctrl-C stops it)")
    launch(build_ui(answerer, library), settings)
    return 0


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.auth import run_users_command

    path = Path(args.file) if args.file else settings.auth_file
    told = run_users_command(path, args.action, getattr(args, "name", None), getattr(args, "role", None))
    if told:  # an empty list of users prints nothing
        print(told)
    return 0


def _log_failures(settings: Settings) -> None:
    """Failures the user sees as one sentence are kept, with their tracebacks, in the log file."""
    try:
        settings.log_path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(settings.log_path, encoding="utf-8", delay=True)
    except OSError:
        handler = logging.StreamHandler()  # a read-only place still gets its failures, on stderr
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("assistant").handlers[:] = [handler]  # one per process, however often main() runs


def _read_history(path: str | None) -> list[dict[str, str]]:
    if not path:
        return []
    try:
        history = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise PromiseError(f"{path}: not a readable JSON history ({error}).") from None
    if not isinstance(history, list) or not all(
        isinstance(turn, dict) and turn.get("role") in {"user", "assistant"} and isinstance(turn.get("content"), str)
        for turn in history
    ):
        raise PromiseError(
            f'{path}: the history must be a JSON list of {{"role": "user"|"assistant", "content": str}}.'
        )
    return history


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.answer.answering import DoneEvent, SourcesEvent, TextEvent

    validate_query(args.question, settings)  # a bad question is told at once, not after the model loads
    answerer = build_answerer(settings)
    history = _read_history(args.history)
    if args.json:
        print(json.dumps(answerer.answer(args.question, history).to_json(), ensure_ascii=False))
        return 0
    for event in answerer.stream(args.question, history):
        if isinstance(event, SourcesEvent) and args.stream:
            print(f"(searched {len(event.results)} passages)", file=sys.stderr)
        elif isinstance(event, TextEvent) and args.stream:
            print(event.text, end=" ", flush=True)
        elif isinstance(event, DoneEvent):
            answer = event.answer
            if answer.notice:
                print(answer.notice, file=sys.stderr)
            if args.stream:
                print("\n" if answer.answered else f"\n{answer.text}\n")
            else:
                print(answer.text + "\n")
            for citation in answer.citations:
                print(citation.label())
    return 0


def cmd_projects(args: argparse.Namespace, settings: Settings) -> int:
    validate_query(args.challenge, settings)
    finder = build_assistant(settings.model_copy(update={"llm": "extractive"})).finder
    matches = finder.find(args.challenge, k=args.k)
    if args.json:
        print(json.dumps({"challenge": args.challenge, "projects": [m.to_json() for m in matches]}, ensure_ascii=False))
        return 0
    if not matches:
        print("The notes don't describe projects that tackled this.")
    for number, match in enumerate(matches, start=1):
        who = match.who
        print(f"{number}. {who}  ({match.title})")
        print(f"   {match.why}")
        if match.contact:
            print(f"   Contact: {match.contact}")
    return 0


def cmd_brief(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.briefing_files import to_markdown, write_briefing

    validate_query(args.topic, settings)
    briefing = build_assistant(settings).briefer.brief(args.topic)
    if args.out:
        print(f"Wrote {write_briefing(briefing, Path(args.out))}")
    else:
        print(to_markdown(briefing))
    return 0 if briefing.answered else 1


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.bench import run_answer_bench, run_bench

    if args.scales:
        scales = tuple(int(scale) for scale in args.scales.split(","))
        run_bench(settings, scales=scales, queries=args.queries, plot_path=Path(args.plot) if args.plot else None)
    if args.answers:
        answerers = [build_answerer(settings.model_copy(update={"llm": "extractive"}))]
        if settings.llm != "extractive":
            answerers.append(build_answerer(settings))
        run_answer_bench(answerers, questions=args.answers)
    return 0


def _add_store_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Fill the store, search it, list and remove its documents."""
    ingest = commands.add_parser("ingest", help="add documents (default: the seeds) to the store")
    ingest.add_argument("paths", nargs="*", help="files or directories (.txt .md .html .docx .pdf)")
    ingest.add_argument("--rebuild", action="store_true", help="delete the store and embed everything again")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.set_defaults(handler=cmd_ingest)

    search = commands.add_parser("search", help="find passages")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=None, help="how many passages (default: the top_k setting)")
    search.add_argument("--source", help="only this document (file name)")
    search.add_argument("--event", help="only events whose title contains this")
    search.add_argument("--organisation", help="only organisations or projects whose name contains this")
    search.add_argument("--from", dest="date_from", help="only events on or after this date (YYYY[-MM[-DD]])")
    search.add_argument("--to", dest="date_to", help="only events on or before this date (YYYY[-MM[-DD]])")
    search.add_argument("--json", action="store_true", help="print one JSON object")
    search.set_defaults(handler=cmd_search)

    sources = commands.add_parser("sources", help="list the documents and events in the store")
    sources.add_argument("--json", action="store_true")
    sources.set_defaults(handler=cmd_sources)

    remove = commands.add_parser("remove", help="remove a document from the store")
    remove.add_argument("source", help="its file name, as 'sources' lists it")
    remove.set_defaults(handler=cmd_remove)


def _add_answer_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Answers, projects and briefings, one at a time or in a loop."""
    ask = commands.add_parser("ask", help="a grounded answer with numbered citations")
    ask.add_argument("question")
    ask.add_argument("--history", help='a JSON file: [{"role": "user"|"assistant", "content": "..."}]')
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--stream", action="store_true", help="print verified sentences as they are written")
    ask.set_defaults(handler=cmd_ask)

    projects = commands.add_parser("projects", help="projects that tackled a challenge")
    projects.add_argument("challenge")
    projects.add_argument("-k", type=int, default=5)
    projects.add_argument("--json", action="store_true")
    projects.set_defaults(handler=cmd_projects)

    brief = commands.add_parser("brief", help="a briefing with sources on a topic")
    brief.add_argument("topic")
    brief.add_argument("--out", help="write to FILE.md or FILE.docx instead of printing Markdown")
    brief.set_defaults(handler=cmd_brief)

    repl = commands.add_parser("repl", help="an interactive question loop in the terminal")
    repl.set_defaults(handler=cmd_repl)


def _add_app_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """The web app and who may sign in to it."""
    serve = commands.add_parser("serve", help="the web app (make run starts it)")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1; any other needs users, see 'users add')")
    serve.add_argument("--port", type=int, help="port (default 7860)")
    serve.set_defaults(handler=cmd_serve)

    users = commands.add_parser("users", help="who may sign in to the app (PROMISE_AUTH_FILE)")
    users.add_argument("--file", help="the auth file (default: PROMISE_AUTH_FILE)")
    user_actions = users.add_subparsers(dest="action", required=True)
    add_user = user_actions.add_parser("add", help="add a user, or change one's password or role (password on stdin)")
    add_user.add_argument("name")
    add_user.add_argument("--role", choices=["reader", "editor"], required=True, help="editors also upload and remove")
    user_actions.add_parser("remove", help="take a user out").add_argument("name")
    user_actions.add_parser("list", help="the users and their roles")
    users.set_defaults(handler=cmd_users)


def cmd_feedback(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.feedback import run_feedback_command

    return run_feedback_command(settings.conversations_path, csv_to=args.csv, cases_to=args.as_cases)


def _add_tool_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """What the answers' users said (feedback), and developer tools: quality and speed (the bench extra)."""
    feedback = commands.add_parser("feedback", help="export thumbs up/down: all as CSV, thumbs-down as eval cases")
    what = feedback.add_mutually_exclusive_group(required=True)
    what.add_argument("--csv", nargs="?", const="-", metavar="FILE", help="every rating as CSV (no FILE: stdout)")
    what.add_argument(
        "--as-cases", nargs="?", const="-", metavar="FILE", help="thumbs-down as evaluation cases (JSON lines)"
    )
    feedback.set_defaults(handler=cmd_feedback)
    evaluate = commands.add_parser("eval", help="retrieval quality on evaluation cases")
    evaluate.add_argument("--cases", help="a JSONL file of cases (default: tests/data/dev.jsonl)")
    evaluate.add_argument("-k", type=int, default=5)
    evaluate.add_argument("--baseline", action="store_true", help="also score the textbook set-up")
    evaluate.add_argument("--retrieval-only", action="store_true", help="skip the answer metrics")
    evaluate.add_argument("--totals", action="store_true", help="totals only, no case ids (for a held-out set)")
    evaluate.set_defaults(handler=cmd_eval)

    bench = commands.add_parser("bench", help="ingest and search speed on the seeds and a synthetic corpus")
    bench.add_argument("--scales", default="1,10,100", help="corpus sizes as multiples of the seeds ('' for none)")
    bench.add_argument("--plot", help="write latency against corpus size to this PNG")
    bench.add_argument("--queries", type=int, default=50, help="searches timed per size")
    bench.add_argument("--answers", type=int, default=10, help="questions answered per generator (0: none)")
    bench.set_defaults(handler=cmd_bench)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promise-assistant", description="Search the notes of learning events about The Promise."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_store_commands(commands)
    _add_answer_commands(commands)
    _add_app_commands(commands)
    _add_tool_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        _log_failures(settings)
        return int(args.handler(args, settings))
    except PromiseError as error:
        print(f"promise-assistant: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
