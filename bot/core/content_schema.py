"""The declared content schema: the base of every model that reads a content file (course.yaml,
quiz.yaml, glossary.yaml, faq.yaml), the field types they share, and the translation of
pydantic's errors into `file:line: message` problems.

Why declared models: what each file accepts is written once, as fields of a pydantic model, and
`extra="forbid"` makes every other key an "unknown field" with a "did you mean" suggestion, instead
of hand-written checks that each file repeated. Why a translation: an instructor should read
`quiz.yaml:14: answer 5 is out of range: there are 4 choices`, not `single.answer: Value error`.
A pydantic error's `loc` walks the `LineDict`/`LineList` that `yamlsource` built, down to the
line of the value (of the key, for an unknown field). The wording lives beside the fields: a
field type raises its own message, and a model names what it says when a field is missing, a
key is unknown, or the entry is not a mapping at all. A field is declared `Annotated[type, check]`,
the check built by `text`, `text_list`, `whole_number`, `one_of` or `entries`: the type is what the
field holds once read (what mypy checks), the check how pydantic reads it and words its mistakes.

A file's entries (questions, terms, chapters) are each validated on their own, so one broken
entry hides none of the others' problems, and the checks across entries and files (duplicates, a
cited section the lesson lacks) still run over every valid one.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Generic, NoReturn, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, TypeAdapter, ValidationError, ValidationInfo
from pydantic_core import PydanticCustomError

from .lessons import DEPTHS, Lesson, Problem
from .yamlsource import LineDict, LineList

#: The error type of every message written here; pydantic's own types (`missing`, …) are worded by the model.
CONTENT_ERROR = "content"


def suggestion(key: Any, allowed: Iterable[str]) -> str:
    """` (did you mean 'answer'?)` for a near miss of an allowed name, else nothing."""
    close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Names(dict):
    """Values for a message template: the given names, then the entry's own fields, else '?'."""

    def __init__(self, entry: Any, **names: Any):
        super().__init__(entry if isinstance(entry, Mapping) else {})
        self.update(names)

    def __missing__(self, key: str) -> Any:
        return "?"


def fail(message: str, item: int | None = None) -> NoReturn:
    """Reject a value with `message` as the instructor reads it; `item` is the index of the
    offending entry of a list, so the problem names that entry's line."""
    raise PydanticCustomError(CONTENT_ERROR, message, None if item is None else {"item": item})


def _template(message: str, info: ValidationInfo, value: Any) -> str:
    """Fill a field type's message with the field's name, the value and the fields read before it."""
    return message.format_map(_Names(info.data, field=info.field_name, value=value))


def text(invalid: str = "{field} must be non-empty text", *, limit: int | None = None,
         too_long: str = "{field} longer than {limit} characters", squeeze: bool = False, optional: bool = False) -> PlainValidator:
    """The validator of a field of non-empty text (`title: Annotated[str, text(...)]`), stripped (with
    `squeeze`, every run of spaces made one space), at most `limit` characters; with `optional`
    (`Annotated[str | None, text(optional=True)]`), a YAML `null` is no text (None)."""

    def check(value: Any, info: ValidationInfo) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            fail(_template(invalid, info, value))
        value = " ".join(value.split()) if squeeze else value.strip()
        if limit is not None and len(value) > limit:
            fail(too_long.format_map(_Names(info.data, field=info.field_name, limit=limit, length=len(value))))
        return value

    return PlainValidator(check)


def text_list(not_a_list: str, *, low: int = 0, high: int | None = None, count: str = "{field} must have {low} to {high} entries, has {length}",
              entry: str = "{field} entry {position} must be non-empty text", limit: int | None = None, too_long: str = "",
              numbers_as_text: bool = False, duplicates: str | None = None, squeeze: bool = False) -> PlainValidator:
    """The validator of a field holding a list of texts (choices, accepted answers, aliases,
    vocabulary), kept as a tuple: `Annotated[tuple[str, ...], text_list(...)]`.

    `numbers_as_text` reads `choices: [1, 2, 3]` as the texts "1", "2", "3"; `duplicates`, when
    given, refuses two entries equal but for case."""

    def check(value: Any, info: ValidationInfo) -> tuple[str, ...]:
        if not isinstance(value, (list, tuple)):
            fail(_template(not_a_list, info, value))
        if not low <= len(value) <= (high if high is not None else len(value)):
            fail(count.format_map(_Names(info.data, field=info.field_name, low=low, high=high, length=len(value))))
        out: list[str] = []
        for i, item in enumerate(value):
            readable = isinstance(item, str) or (numbers_as_text and isinstance(item, (int, float)) and not isinstance(item, bool))
            overlong = limit is not None and len(str(item)) > limit
            if not readable or not str(item).strip() or (overlong and not too_long):
                fail(entry.format_map(_Names(info.data, field=info.field_name, position=i + 1, value=item, limit=limit)), item=i)
            if overlong:
                fail(too_long.format_map(_Names(info.data, field=info.field_name, position=i + 1, length=len(str(item)), limit=limit)), item=i)
            out.append(" ".join(str(item).split()) if squeeze else str(item).strip())
        if duplicates and len({s.casefold() for s in out}) != len(out):
            fail(duplicates.format(field=info.field_name))
        return tuple(out)

    return PlainValidator(check)


def whole_number(invalid: str, *, optional: bool = False) -> PlainValidator:
    """The validator of a field holding a whole number from 0 (a YAML `true` is not one):
    `Annotated[int, whole_number(...)]`; with `optional` (`Annotated[int | None, …]`), `null` is None."""

    def check(value: Any, info: ValidationInfo) -> int | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            fail(_template(invalid, info, value))
        return value

    return PlainValidator(check)


def one_of(choices: tuple[str, ...], invalid: str = "{field} must be one of {choices}, got {value!r}") -> PlainValidator:
    """The validator of a field holding one of a few fixed words: `Annotated[str, one_of(...)]`."""

    def check(value: Any, info: ValidationInfo) -> str:
        if value not in choices:
            fail(invalid.format_map(_Names(info.data, field=info.field_name, value=value, choices=", ".join(choices))))
        return value

    return PlainValidator(check)


def entries(missing: str, *, allow_empty: bool = False) -> PlainValidator:
    """The validator of a field holding the list of a file's entries (`Annotated[LineList, entries(...)]`),
    kept as the `LineList` so that each entry is validated on its own (see `Source.read_each`) with
    its lines at hand. With `allow_empty`, an empty list or a bare key (`outline:`) has no entries."""

    def check(value: Any, info: ValidationInfo) -> LineList:
        if value is None and allow_empty:
            return LineList()
        if not isinstance(value, LineList) or not (value or allow_empty):
            fail(_template(missing, info, value))
        return value

    return PlainValidator(check)


#: The depth of a lesson section a glossary term or FAQ answer cites.
LessonDepth = Annotated[str, one_of(DEPTHS, "depth must be one of {choices}, not {value!r}")]


class ContentModel(BaseModel):
    """A mapping of a content file, declared: its fields, and how its mistakes are worded.

    The messages are templates filled with the entry's own values (`{id!r}`, `{number}`),
    `{field}`, `{key}`, `{suggestion}` and, for an entry of a list, `{index}` (1-based)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shape: ClassVar[str] = "must be a mapping"  # the entry is not a mapping at all
    unknown: ClassVar[str] = "unknown field {key!r}{suggestion}"
    missing: ClassVar[str] = "`{field}` is required and must be text"
    missing_fields: ClassVar[dict[str, str]] = {}  # a field whose absence reads differently
    placed: ClassVar[tuple[str, ...]] = ()  # fields the loader fills in (the chapter), never written in the file

    @classmethod
    def authored(cls) -> set[str]:
        """The fields an author may write."""
        return set(cls.model_fields) - set(cls.placed)


Model = TypeVar("Model", bound=ContentModel)


@dataclass(frozen=True)
class OneOf(Generic[Model]):
    """A discriminated union of content models: the value of `tag` says which model reads the entry
    (`type: single` → SingleQuestion). `base`, the class every kind extends, words the entry's shape
    and unknown-kind mistakes; it reads no entry itself (it may be abstract)."""

    tag: str
    kinds: Mapping[str, type[Model]]
    base: type[ContentModel]
    unknown_kind: str  # filled with {kind!r}, {kinds} and {suggestion}
    adapter: TypeAdapter[Model] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A union of the kinds given at run time: no static type names it, so it is a value here.
        union: Any = Annotated[Union[tuple(self.kinds.values())], Field(discriminator=self.tag)]  # noqa: UP007 (a runtime tuple)
        object.__setattr__(self, "adapter", TypeAdapter(union))

    def model_for(self, raw: Any) -> type[ContentModel]:
        """The model that reads `raw`, by its tag (the base when it has none that is known)."""
        tag = raw.get(self.tag) if isinstance(raw, Mapping) else None
        return self.kinds.get(tag, self.base) if isinstance(tag, str) else self.base


def line_at(raw: LineDict, loc: tuple, key: bool = False) -> int:
    """The line of the value at pydantic's `loc` in `raw` (of the key itself, with `key`), or of the
    nearest enclosing mapping or list that is there."""
    line, node = raw.line, raw
    for depth, part in enumerate(loc):
        if isinstance(node, LineDict) and part in node:
            last = depth == len(loc) - 1
            line = node.key_lines[part] if key and last else node.line_of(part)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.line_of(part), node[part]
        else:
            break
    return line


@dataclass
class Source:
    """One content file being read: every problem it has goes to `problems` as `file:line`."""

    shown: str  # the file as problems name it
    problems: list[Problem]

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.shown, line, message))

    def read(self, schema: type[Model] | OneOf[Model], raw: Any, line: int, index: int = 0, **placed: Any) -> Model | None:
        """`raw` (found at `line`) as the declared model, or None after reporting all its problems.

        `index` (1-based) is the entry's position in its list, for messages; `placed` the fields the
        loader fills in."""
        model: type[ContentModel]  # words the entry's mistakes
        validate: Callable[[Any], Model]
        if isinstance(schema, OneOf):
            model, validate = schema.model_for(raw), schema.adapter.validate_python
        else:
            model, validate = schema, schema.model_validate
        if not isinstance(raw, LineDict):
            self.error(line, model.shape.format_map(_Names({}, index=index)))
            return None
        written = [key for key in raw if key in model.placed]
        for key in written:
            self.error(raw.key_lines[key], self._unknown(model, raw, key, index))
        try:
            value = validate({**raw, **placed})
        except ValidationError as exc:
            for error in exc.errors():
                self._report(schema, raw, error, index)
            return None
        return None if written else value

    def read_each(self, schema: type[Model] | OneOf[Model], items: LineList, **placed: Any) -> list[tuple[Model, LineDict]]:
        """Every valid entry of `items` with its mapping (for the lines of checks across entries)."""
        read = [(self.read(schema, raw, items.line_of(i), i + 1, **placed), raw) for i, raw in enumerate(items)]
        return [(value, raw) for value, raw in read if value is not None]

    def _unknown(self, model: type[ContentModel], raw: LineDict, key: Any, index: int) -> str:
        return model.unknown.format_map(_Names(raw, key=key, suggestion=suggestion(key, model.authored()), index=index))

    def _report(self, schema: type[ContentModel] | OneOf[Any], raw: LineDict, error: Mapping, index: int) -> None:
        loc, kind = tuple(error["loc"]), error["type"]
        if isinstance(schema, OneOf):
            if kind in ("union_tag_invalid", "union_tag_not_found"):
                tag = raw.get(schema.tag)
                message = schema.unknown_kind.format(kind=tag, kinds=", ".join(schema.kinds), suggestion=suggestion(tag, schema.kinds))
                self.error(raw.line_of(schema.tag), message)
                return
            model, loc = schema.kinds[loc[0]], loc[1:]
        else:
            model = schema
        name = loc[0] if loc else ""
        if kind == "extra_forbidden":
            self.error(line_at(raw, loc, key=True), self._unknown(model, raw, name, index))
            return
        if kind == "missing":
            template = model.missing_fields.get(name, model.missing)
            self.error(raw.line, template.format_map(_Names(raw, field=name, index=index)))
            return
        if kind == CONTENT_ERROR:
            item = (error.get("ctx") or {}).get("item")
            self.error(line_at(raw, loc if item is None else (*loc, item)), error["msg"].replace("{index}", str(index)))
            return
        self.error(line_at(raw, loc), f"{'.'.join(map(str, loc))}: {error['msg']}")

    def check_section(self, raw: LineDict, section: str, depth: str, lesson: Lesson) -> bool:
        """Does the lesson have the section an entry cites? A citation that leads nowhere is worse
        than none, so a missing one is an error (with the nearest heading as a suggestion)."""
        if lesson.section(section, depth) is not None:
            return True
        titles = {s.title for s in lesson.sections[depth]}
        self.error(raw.line_of("section"), f"no section {section!r} in the lesson at depth {depth}{suggestion(section, titles)}")
        return False

