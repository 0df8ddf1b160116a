"""Cut units into chunks that fit the embedder, on sentence boundaries, with the unit's header repeated."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.models import ChunkMetadata
from assistant.text import BULLET, sentence_spans, who_label
from ingest.structure import DocumentStructure, Segment, Unit

# Start a new chunk at a section label once the current one is this full, so sections stay whole.
_SECTION_BREAK_FILL = 0.4
# A list item this long is a point of its own when the unit asks for long items alone.
_LONG_ITEM_WORDS = 40


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    text: str  # context line, then the unit's header (if any), then the body
    metadata: ChunkMetadata


def words(text: str) -> int:
    return len(text.split())


def _sentences(segment: Segment, limit: int) -> list[Segment]:
    """Split a long segment at sentence ends, and any still-too-long sentence at word boundaries."""
    if words(segment.text) <= limit:
        return [segment]
    pieces: list[Segment] = []
    for start, end in sentence_spans(segment.text):
        tokens = segment.text[start:end].split()
        for first in range(0, len(tokens), limit):
            text = " ".join(tokens[first : first + limit])
            pieces.append(Segment(text, segment.start + start, segment.start + end, segment.section))
    return pieces


def context_line(event: str, organisation: str | None, project: str | None, section: str | None) -> str:
    parts = [event, who_label(organisation, project), section if section != event else None]
    return " · ".join(part for part in parts if part)


def _dominant_section(segments: list[Segment]) -> str | None:
    """The section most of a chunk's words belong to (a short opening section may precede it)."""
    totals: dict[str | None, int] = {}
    for segment in segments:
        totals[segment.section] = totals.get(segment.section, 0) + words(segment.text)
    return max(totals, key=lambda section: (totals[section], section is not None))


def _marked_lines(segments: list[Segment], body_start: int, instructions: Sequence[tuple[int, int]]) -> str | None:
    """The lines of a chunk's body whose text comes from a line of the document that talks to an AI
    (``instructions``: their spans in the document), as ``ChunkMetadata.instructions`` records them."""
    marked = []
    position = body_start
    for segment in segments:
        if any(segment.start < end and start < segment.end for start, end in instructions):
            marked.append(f"{position}-{position + len(segment.text)}")
        position += len(segment.text) + 1
    return ",".join(marked) or None


def chunk_document(
    structure: DocumentStructure,
    source: str,
    doc_hash: str,
    max_words: int,
    instructions: Sequence[tuple[int, int]] = (),
) -> list[Chunk]:
    """The document's chunks; ``instructions``: the spans of its lines that talk to an AI, which the chunks
    holding them record."""
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for unit_number, unit in enumerate(structure.units):
        unit_id = hashlib.sha256(f"{source}\x00{unit.key}".encode()).hexdigest()[:16]
        for part, segments in enumerate(_pack(unit, structure.event, max_words)):
            section = _dominant_section(segments) or unit.default_section
            context = context_line(structure.event, unit.organisation, unit.project, section)
            body = "\n".join(segment.text for segment in segments)
            text = "\n".join(line for line in (context, unit.header, body) if line)
            body_start = len(text) - len(body)
            chunk_id = hashlib.sha256(f"{source}\x00{text}".encode()).hexdigest()[:32]
            if chunk_id in seen:
                continue  # the very same passage twice in one document: keep one
            seen.add(chunk_id)
            metadata = ChunkMetadata(
                source=source,
                event=structure.event,
                date=structure.date,
                place=structure.place,
                organisation=unit.organisation,
                project=unit.project,
                section=section,
                contact=unit.contact,
                start=segments[0].start,
                end=segments[-1].end,
                content_hash=hashlib.sha256(text.encode()).hexdigest(),
                unit_id=unit_id,
                unit_index=unit_number,
                part=part,
                doc_hash=doc_hash,
                context=context,
                instructions=_marked_lines(segments, body_start, instructions),
            )
            chunks.append(Chunk(chunk_id=chunk_id, text=text, metadata=metadata))
    return chunks


def _pack(unit: Unit, event: str, max_words: int) -> list[list[Segment]]:
    """Greedy packing of the unit's segments into chunks of at most ``max_words`` words in all."""
    sections = {segment.section or "" for segment in unit.segments} | {unit.default_section or ""}
    context_words = max(words(context_line(event, unit.organisation, unit.project, section)) for section in sections)
    overhead = context_words + words(unit.header or "")
    budget = max(max_words - overhead, 20)
    pieces = [piece for segment in unit.segments for piece in _sentences(segment, budget)]
    packs: list[list[Segment]] = []
    current: list[Segment] = []
    used = 0
    alone = False  # the current chunk holds one long list item, to be closed after it
    for piece in pieces:
        size = words(piece.text)
        new_section = bool(current) and piece.section != current[-1].section
        long_item = unit.long_items_alone and size >= _LONG_ITEM_WORDS and bool(BULLET.match(piece.text))
        if current and (
            alone or long_item or used + size > budget or (new_section and used >= budget * _SECTION_BREAK_FILL)
        ):
            packs.append(current)
            current, used = [], 0
        current.append(piece)
        used += size
        alone = long_item
    if current:
        packs.append(current)
    return packs
