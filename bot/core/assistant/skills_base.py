"""What every skill mixin of `SimulatedAssistant` may use: the assistant's data, and the skills of the other mixins.

The skills are split into mixins by what they work on (`skills_text`, `skills_world`, `skills_concepts`,
`skills_course`, `skills_sections`), but they share the assistant's data (the course, its index, the phrasebook,
the table of countries, the understanding of questions, the FAQ) and call one another: a concept answer falls
back on the lesson passage (`CourseSkills._course`), a "simpler" follow-up uses `ConceptSkills._simply`. Each
mixin derives from `SkillBase` so that what it uses is declared once, with its type, and the type checker checks
every mixin on its own and checks each implementation against its declaration here. At run time this class holds
only `_CREATIVE`: the data is set by `SimulatedAssistant.__init__` and the skills come from the other mixins.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..content import Chapter, Course
    from ..glossary import GlossaryTerm
    from .faq_match import FaqIndex
    from .knowledge import Facts, Phrasebook
    from .retrieval import CourseIndex, SectionDoc, Unit
    from .turns import Answer, Turn
    from .understanding import Understanding


class SkillBase:
    course: Course
    index: CourseIndex
    phrasebook: Phrasebook
    facts: Facts
    understanding: Understanding
    faq: FaqIndex

    #: A request to write something new: no skill answers it from what it has, and the reply says so.
    _CREATIVE: ClassVar[re.Pattern[str]] = re.compile(
        r"^(?:write|compose|draw|sing|paint|invent|make up|generate|create)\b(?P<what>.{0,60})|^tell me (?P<what2>a (?:joke|story|poem|riddle)|something funny)", re.I)

    if TYPE_CHECKING:  # the skills one mixin takes from another (declarations only: the mixins implement them)
        # CourseSkills
        def _course(self, text: str, last: Turn, depth: str) -> Answer | None: ...
        def _definition(self, term: GlossaryTerm, chapter: Chapter, stems: set[str]) -> Answer: ...
        def _not_said(self, text: str, matched: tuple[GlossaryTerm, Chapter], stems: set[str]) -> Answer: ...
        def _strange(self, text: str, term: GlossaryTerm) -> list[str]: ...
        def _passage(self, doc: SectionDoc, unit: Unit) -> list[str]: ...
        def _chapter_summary(self, number: int | None, depth: str) -> Answer: ...
        def _labelled_item(self, text: str, last: Turn, depth: str) -> Answer | None: ...

        # ConceptSkills
        def _simply(self, term: GlossaryTerm) -> str: ...
        def _simply_each(self, terms: list[GlossaryTerm]) -> str: ...
        def _summary_of_concept(self, text: str) -> Answer | None: ...

        # SectionSkills
        def _quantity(self, text: str, asked: set[str], names: Iterable[str] = (), precise: bool = False) -> Answer | None: ...
        def _section_example(self, text: str, subject_names: set[str]) -> Answer | None: ...
        def _section_answer(self, text: str, depth: str, strong: bool = False) -> Answer | None: ...
        def _named_instances(self, text: str, last: Turn, depth: str) -> Answer | None: ...
