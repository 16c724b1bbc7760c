"""The conversation engine the companion talks to: `reply`, `compare` and `set_mode`.

It keeps each user's history and mode in SQLite, answers in the chosen mode (the simulated
instruction-tuned assistant, or the base model alone), optionally asks a real model first, and
returns platform-neutral `Reply`s that fit every platform and can never mention anyone.
"""

from __future__ import annotations

import logging
import re
import time

from ..content import Course
from ..context import CoreContext
from ..replies import Button, Reply, quote_user_text
from ..users import Actor
from . import history, safety
from .backend import SYSTEM_PROMPT, ChatModel, ModelError
from .base_model import NgramModel, build_base_model
from .knowledge import load_facts, load_phrasebook
from .retrieval import CourseIndex
from .simulated import SimulatedAssistant
from .text import clip
from .turns import Answer

log = logging.getLogger(__name__)

MAX_MESSAGE = 2000  # longer messages are cut: a chat turn, not a document
_MENTION = re.compile(r"@(everyone|here|channel)\b|<[@!#][^>]*>", re.I)

WHY_QUESTION = ("Why they differ: the base model only learned to continue documents, and in its training text a "
                "question is usually followed by more questions; instruction tuning trains on (instruction, response) "
                "pairs, so the assistant answers instead.")
WHY_INSTRUCTION = ("Why they differ: the base model treats your instruction as the start of a document and keeps "
                   "writing it; instruction tuning trains on (instruction, response) pairs, so the assistant carries it out.")


#: Link syntax a chat model may write (or repeat from the user): `[text](url)`, `![alt](url)`,
#: `<url|text>`, `<url>`, and a reference definition `[1]: url`.
_MD_LINK = re.compile(r"!?\[([^\[\]\n]*)\]\(\s*<?([^()\s<>]*)>?(?:\s+[^()]*)?\)")
_ANGLE_LINK = re.compile(r"<((?:https?|mailto|ftp):[^<>|\s]*)(?:\|([^<>]*))?>", re.I)
_REF_DEFINITION = re.compile(r"^(\s{0,3})\[([^\]\n]+)\]:", re.M)


def safe(text: str) -> str:
    """No mention can form in what the assistant sends, whatever a model or a user wrote, and
    no link hides its target: a link becomes its text followed by the address, in plain sight."""
    for _ in range(8):  # nested links unwrap from the inside, one level a pass
        text, found = _MD_LINK.subn(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(1).strip() != m.group(2) else m.group(2), text)
        if not found:
            break
    else:
        text = text.replace("](", "] (")  # deeper than that: no inline link can form at all
    text = _ANGLE_LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    text = _REF_DEFINITION.sub(lambda m: f"{m.group(1)}{m.group(2)}:", text)
    return _MENTION.sub(lambda m: quote_user_text(m.group(0)), text)


class Assistant:
    def __init__(self, ctx: CoreContext, simulated: SimulatedAssistant, base: NgramModel, build_seconds: float,
                 model: ChatModel | None = None):
        self.ctx = ctx
        self.simulated = simulated
        self.base = base
        self.build_seconds = build_seconds
        self.model = model

    @classmethod
    def build(cls, ctx: CoreContext) -> Assistant:
        """Index the course, load the phrasebook and facts, count the base model (well under 1 s);
        rebuilt whenever the course is replaced (an instructor's reload)."""
        settings = ctx.settings
        model = (ChatModel(settings.llm_base_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout)
                 if settings.llm_base_url and settings.llm_model else None)
        assistant = cls(ctx, *_components(ctx.course), model)
        ctx.on_course_change(assistant.reindex)
        return assistant

    def reindex(self, course: Course) -> None:
        """Rebuild from `course`, so the assistant answers from the new lessons and glossary."""
        self.simulated, self.base, self.build_seconds = _components(course)

    async def close(self) -> None:
        if self.model is not None:
            await self.model.close()

    # ---- the three operations -------------------------------------------------------------

    async def reply(self, actor: Actor, message: str) -> Reply:
        self.ctx.require_rate("chat", actor)
        message = message.strip()[:MAX_MESSAGE]
        store, now = self.ctx.store, self.ctx.clock.now()
        context = await store.run(history.read_context, actor)
        if context.mode == "base":
            continuation = self.base.continue_text(message)
            text = (f"🧪 **Base model** (it only continues text; `/mode assistant` to switch back)\n"
                    f"{_continued(message, continuation)}")
            await store.run(history.record, actor, now, "base", message, continuation, {"skill": "base"},
                            self.ctx.settings.history_turns)
            return Reply(text=safe(text), ephemeral=True, kind="assistant")
        answer = await self._answer(actor, message, context)
        await store.run(history.record, actor, now, "assistant", message, answer.text, answer.meta,
                        self.ctx.settings.history_turns)
        return self._render(answer)

    async def compare(self, actor: Actor, prompt: str) -> Reply:
        self.ctx.require_rate("compare", actor)
        prompt = prompt.strip()[:MAX_MESSAGE]
        context = await self.ctx.store.run(history.read_context, actor)
        continuation = self.base.continue_text(prompt)
        answer = self.simulated.answer(prompt, context.last, context.depth)
        question = prompt.rstrip().endswith("?") or re.match(r"^(what|who|where|when|why|how|which|is|are|do|does|can)\b", prompt, re.I)
        why = WHY_QUESTION if question else WHY_INSTRUCTION
        if answer.skill == "refusal":
            why = ("Why they differ: the base model has no notion of harm, it just continues the text; RLHF trained the "
                   "assistant to refuse dangerous requests (harmlessness).")
        text = (f"🧪 **Base model** (an n-gram model of the course text and a small corpus; it continues the text):\n"
                f"{_continued(prompt, clip(continuation, 400))}\n\n"
                f"🤖 **Instruction-tuned assistant** (simulated):\n{clip(answer.text, 800)}\n\n_{why}_")
        return Reply(title="Base model vs. instruction-tuned", text=safe(text), ephemeral=True, kind="assistant")

    async def set_mode(self, actor: Actor, mode: str) -> Reply:
        await self.ctx.store.run(history.set_mode, actor, self.ctx.clock.now(), mode)
        if mode == "base":
            text = ("🧪 You're now talking to the **base model**: a tiny n-gram language model trained on the course text and "
                    "a small corpus. It doesn't follow instructions, it continues whatever you write. Try "
                    "*What is the capital of France?*, then `/mode assistant` to come back.")
        else:
            text = "🤖 You're talking to the **instruction-tuned assistant** again: ask, and it answers."
        return Reply(text=text, ephemeral=True, kind="assistant")

    # ---- inside ---------------------------------------------------------------------------

    async def _answer(self, actor: Actor, message: str, context: history.Context) -> Answer:
        harm = safety.check(message)
        if self.model is None or harm is not None:
            return self.simulated.answer(message, context.last, context.depth)
        grounding, notes = self.simulated.grounding(message)
        passages = "\n\n".join(notes + [f"[Chapter {d.chapter.number} › {d.title}, {d.depth}]\n" + "\n".join(u.text for u in d.units)
                                          for d in grounding]) or "(none matched)"
        recent = await self.ctx.store.run(history.recent, actor, 6)
        messages = [{"role": "system", "content": SYSTEM_PROMPT.format(course=self.ctx.course.title, passages=passages)}]
        messages += [{"role": role, "content": text} for role, text in recent]
        messages.append({"role": "user", "content": message})
        try:
            text = await self.model.complete(messages)
        except ModelError as exc:
            log.warning("the chat model did not answer (%s); the simulated assistant answers", exc)
            fallback = self.simulated.answer(message, context.last, context.depth)
            fallback.text += f"\n\n_(The course's language model did not answer ({exc}), so the simulated assistant replied.)_"
            return fallback
        cite = grounding[0].citation if grounding else None
        return Answer(clip(text, 1800), "model", {"skill": "model", "model": self.model.model}, cite)

    def _render(self, answer: Answer) -> Reply:
        text = answer.text
        buttons = []
        if answer.citation is not None and answer.hedged:  # the closest part, named for the student, not presented as the source
            c = answer.citation
            unsure = text.startswith("I'm not sure")  # it may answer it; "I don't know …" says it does not
            text += (f"\n\n_(The closest part of the lesson, {'which may not answer exactly that' if unsure else 'which is not an answer to that'}: "
                     f"Chapter {c.chapter} ({c.chapter_title}) › *{c.section}*, "
                     f"`/lesson {c.chapter} {c.depth}`.)_")
        elif answer.citation is not None:
            text += "\n\n" + answer.citation.text()
            buttons.append(Button(f"📖 Read: {answer.citation.section}", answer.citation.action, "primary"))
        return Reply(text=safe(text), buttons=buttons, ephemeral=True, kind="assistant")


def _continued(prompt: str, continuation: str) -> str:
    """The prompt in bold and what the base model wrote after it, as a quote block."""
    first, *rest = continuation.split("\n")
    lines = [f"**{quote_user_text(clip(' '.join(prompt.split()), 300))}** {quote_user_text(first)}"]
    lines += [quote_user_text(line) for line in rest if line.strip()]
    return "\n".join("> " + line for line in lines)


def _components(course: Course) -> tuple[SimulatedAssistant, NgramModel, float]:
    started = time.perf_counter()
    index = CourseIndex(course)
    base = build_base_model("\n\n".join(u.text for u in doc.units) for doc in index.sections)
    simulated = SimulatedAssistant(course, index, load_phrasebook(), load_facts())
    seconds = time.perf_counter() - started
    log.info("assistant ready in %.0f ms (base model: %d tokens)", seconds * 1000, base.tokens)
    return simulated, base, seconds
