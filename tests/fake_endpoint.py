"""A scripted OpenAI-compatible endpoint, as ``PROMISE_LLM=openai`` reaches one: ``POST /v1/chat/completions``
with ``stream: true`` answers with the passages' own sentences, cited, one word per ``seconds_per_word``, and
records when the client closes the stream before its end (as Stop must)."""

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# A numbered passage as the answer prompt gives it: "[2] (Event · date · who)" then its lean text, quoted.
_PASSAGE = re.compile(r"^\[(\d+)\] \([^\n]*\)\n<passage>\n(.+?)\n</passage>", re.MULTILINE | re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def cited_reply(prompt: str) -> str:
    """Every sentence of every passage in the prompt, each cited to its passage: text the checks keep."""
    sentences = []
    for number, text in _PASSAGE.findall(prompt):
        for sentence in _SENTENCE_END.split(" ".join(text.split())):
            if len(sentence.split()) >= 4 and sentence[-1] in ".!?":
                sentences.append(f"{sentence[:-1]} [{number}].")
    return " ".join(sentences) or "The notes don't cover this."


class ScriptedEndpoint:
    """The endpoint on a free loopback port; ``url`` is its base URL (…/v1)."""

    def __init__(self, seconds_per_word: float) -> None:
        self.seconds_per_word = seconds_per_word
        self.started = threading.Event()  # a completion request has arrived
        self.closed_at: float | None = None  # when a client closed a stream before its end (monotonic)
        self.finished = 0  # streams sent to their end
        self.words_sent = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.started.set()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                words = cited_reply(str(body["messages"][-1]["content"])).split(" ")
                try:
                    for index, word in enumerate(words):
                        self._send({"content": word if index == 0 else " " + word}, None)
                        endpoint.words_sent += 1
                        if self._client_gone():
                            return
                        time.sleep(endpoint.seconds_per_word)
                    self._send({}, "stop")
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                    endpoint.finished += 1
                except (BrokenPipeError, ConnectionResetError):
                    endpoint.closed_at = time.monotonic()

            def _send(self, delta: dict[str, str], finish: str | None) -> None:
                chunk = {"id": "fake", "object": "chat.completion.chunk", "created": 0, "model": "fake",
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

            def _client_gone(self) -> bool:
                """The client closed its end: the socket reads as ended (it sends nothing after its request)."""
                # A non-blocking peek, not select(): select() refuses descriptors past 1024, and a
                # long test run holds more than that open (the CI run of stop 28 failed so).
                try:
                    ended = self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
                except BlockingIOError:
                    return False
                except OSError:
                    ended = True
                if ended:
                    endpoint.closed_at = time.monotonic()
                return ended

            def log_message(self, *args: Any) -> None:  # keeps the test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @contextlib.contextmanager
    def serving(self) -> Iterator["ScriptedEndpoint"]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
