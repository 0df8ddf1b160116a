"""The answer layer: what a question asks (``questions``, ``framing``, ``language``, ``lexicon``), whether the
notes cover it (``gate``, ``grounding``), follow-ups made standalone (``followups``), the sentences that answer
(``picking``, ``composing``), the projects that tackled a challenge (``finder``), a model's draft
(``generation``), and the chat answer that puts them together (``answering``). It uses retrieval and storage
below it and nothing above it: the app, the CLI and the briefer use it."""
