"""A chapter's lab content (`lab.yaml`, optional): the instructions students write demonstrations
for, and the prompts they rank, each with authored candidates that show a known failure.

Why authored candidates: a class's preferences teach a reward model only what its comparisons
contrast. A rambling answer beside a concise one, an evasive one beside a direct one, a made-up
fact, a harmful request complied with, a harmless one refused: each candidate names the failure
it shows (or `none`), so the lab can put a good response next to a flawed one on purpose, and
the live lab can tell the class which failure it just voted down. Every prompt and instruction
cites the lesson section it practises, checked like the glossary's citations.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import Field, PlainValidator

from ..content_schema import ContentModel, LessonDepth, Source, entries, fail, one_of, text, whole_number
from ..lessons import Lesson
from ..yamlsource import LineList

#: The failures an authored candidate can show; `none` for a good response.
FAILURES = ("none", "rambling", "evasive", "made-up-fact", "complies-with-harm", "refuses-harmless")
#: How each failure reads in a reveal or a card.
FAILURE_NAMES = {"none": "a good response", "rambling": "rambling", "evasive": "evasive", "made-up-fact": "a made-up fact",
                 "complies-with-harm": "complies with a harmful request", "refuses-harmless": "refuses a harmless request"}
MAX_PROMPT = 500
MAX_CANDIDATE = 1500
MAX_CANDIDATES = 4
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_REQUIRED = "`{field}` is required and must be text"


def _lab_id(value: Any) -> str:
    if not isinstance(value, str) or not _ID.match(value) or len(value) > 40:
        fail(f"id must be lowercase letters, digits and hyphens (at most 40), got {value!r}")
    return value


LabId = Annotated[str, PlainValidator(_lab_id)]


class LabCandidate(ContentModel):
    """An authored response to a lab prompt, and the failure it shows (`none` when it is good)."""

    shape: ClassVar[str] = "each candidate is a mapping with text and failure"
    missing: ClassVar[str] = "a candidate needs `{field}`"
    unknown: ClassVar[str] = "unknown candidate field {key!r}{suggestion}"

    text: Annotated[str, text(_REQUIRED, limit=MAX_CANDIDATE, too_long="candidate longer than {limit} characters", squeeze=True)]
    failure: Annotated[str, one_of(FAILURES, "failure must be one of {choices}, got {value!r}")]


class LabInstruction(ContentModel):
    """An instruction students write a demonstration for (phase 1, supervised fine-tuning data)."""

    shape: ClassVar[str] = "each instruction is a mapping with id, text, section and depth"
    unknown: ClassVar[str] = "unknown instruction field {key!r}{suggestion}"

    id: LabId
    text: Annotated[str, text(_REQUIRED, limit=MAX_PROMPT, too_long="instruction longer than {limit} characters", squeeze=True)]
    section: Annotated[str, text(_REQUIRED, squeeze=True)]
    depth: LessonDepth


class LabPrompt(ContentModel):
    """A prompt students rank responses to (phase 2), with its authored candidates."""

    shape: ClassVar[str] = "each prompt is a mapping with id, prompt, section, depth and candidates"
    unknown: ClassVar[str] = "unknown prompt field {key!r}{suggestion}"

    id: LabId
    prompt: Annotated[str, text(_REQUIRED, limit=MAX_PROMPT, too_long="prompt longer than {limit} characters", squeeze=True)]
    section: Annotated[str, text(_REQUIRED, squeeze=True)]
    depth: LessonDepth
    candidates: Annotated[LineList, entries("a prompt needs a list of candidates")]
    #: Filled in by the loader from `candidates` once each is read.
    responses: tuple[LabCandidate, ...] = ()
    placed: ClassVar[tuple[str, ...]] = ("responses",)


class LabFile(ContentModel):
    shape: ClassVar[str] = "lab.yaml must be a mapping with instructions and prompts"
    unknown: ClassVar[str] = "unknown field {key!r} in lab.yaml{suggestion}"

    chapter: Annotated[int | None, whole_number("chapter must be a whole number, got {value!r}", optional=True)] = None
    instructions: Annotated[LineList, entries("instructions must be a list", allow_empty=True)] = Field(default_factory=LineList)
    prompts: Annotated[LineList, entries("prompts must be a list", allow_empty=True)] = Field(default_factory=LineList)


class Lab:
    """A chapter's lab content, read and checked."""

    def __init__(self, instructions: list[LabInstruction], prompts: list[LabPrompt]):
        self.instructions = instructions
        self.prompts = prompts

    def instruction(self, instruction_id: str) -> LabInstruction | None:
        return next((i for i in self.instructions if i.id == instruction_id), None)

    def prompt(self, prompt_id: str) -> LabPrompt | None:
        return next((p for p in self.prompts if p.id == prompt_id), None)


def read_lab(data: Any, source: Source, lesson: Lesson, number: int) -> Lab:
    """The valid instructions and prompts of a parsed lab.yaml; every problem goes to `source`."""
    lab = source.read(LabFile, data, 1)
    if lab is None:
        return Lab([], [])
    if lab.chapter is not None and lab.chapter != number:
        source.error(data.line_of("chapter"), f"chapter is {lab.chapter!r} but course.yaml lists this folder as chapter {number}")
    seen: dict[str, int] = {}

    def fresh(raw: Any, kind: str, entry_id: str) -> bool:
        if entry_id in seen:
            source.error(raw.line_of("id"), f"duplicate {kind} id {entry_id!r} (first used at line {seen[entry_id]})")
            return False
        seen[entry_id] = raw.line_of("id")
        return True

    instructions = [i for i, raw in source.read_each(LabInstruction, lab.instructions)
                    if source.check_section(raw, i.section, i.depth, lesson) and fresh(raw, "instruction", i.id)]
    prompts: list[LabPrompt] = []
    for prompt, raw in source.read_each(LabPrompt, lab.prompts):
        candidates = [c for c, _ in source.read_each(LabCandidate, prompt.candidates)]
        if len(candidates) != len(prompt.candidates):
            continue
        if not 2 <= len(candidates) <= MAX_CANDIDATES:
            source.error(raw.line_of("candidates"), f"prompt {prompt.id!r} needs 2 to {MAX_CANDIDATES} candidates, has {len(candidates)}")
            continue
        if not any(c.failure == "none" for c in candidates) or all(c.failure == "none" for c in candidates):
            source.error(raw.line_of("candidates"), f"prompt {prompt.id!r} needs a good candidate (failure: none) and a flawed one")
            continue
        if source.check_section(raw, prompt.section, prompt.depth, lesson) and fresh(raw, "prompt", prompt.id):
            prompts.append(prompt.model_copy(update={"responses": tuple(candidates)}))
    return Lab(instructions, prompts)
