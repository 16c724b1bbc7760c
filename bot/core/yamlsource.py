"""YAML that remembers where each value came from, so content errors can name file and line.

PyYAML forgets positions once it builds Python objects and silently keeps the last of two
duplicate keys. This loader returns `LineDict`/`LineList`, which carry the 1-based line of
the mapping or sequence and of each key and item, and it reports duplicate keys.

Content is parsed by libyaml (PyYAML's C parser, in its wheels): about ten times faster than
the pure-Python parser, and the content load is most of the companion's start-up (bench/RESULTS.md).
Both give the same data and lines; their syntax-error texts differ, so a file that does not
parse is parsed again by the pure-Python parser for its message, as before.
"""

from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict):
    line: int = 0
    key_lines: dict[Any, int]
    value_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        """The line of `key`'s value if present, else of the mapping itself."""
        return self.value_lines.get(key, self.key_lines.get(key, self.line))


class LineList(list):
    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class _Loader(yaml.SafeLoader):
    """A safe loader that builds `LineDict`/`LineList` and collects the duplicate keys it meets."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicates: list[tuple[int, Any]] = []  # (line, key) of each key written twice in a mapping


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # (a PyYAML built without libyaml has no CSafeLoader)
    """The same loader on libyaml's parser."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicates: list[tuple[int, Any]] = []


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines, out.value_lines = {}, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            loader.duplicates.append((key_node.start_mark.line + 1, key))
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
        out.value_lines[key] = value_node.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


for _loader in (_Loader, _FastLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


class YamlSyntaxError(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def load_yaml(text: str) -> tuple[Any, list[tuple[int, Any]]]:
    """Parse `text`; return the data and a list of (line, key) for duplicate keys.

    Raises `YamlSyntaxError` with the line of the first syntax error.
    """
    fast = _FastLoader(text)
    try:
        return fast.get_single_data(), fast.duplicates
    except yaml.YAMLError:
        pass  # reported below in the pure-Python parser's words
    finally:
        fast.dispose()
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(line, f"YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    return data, loader.duplicates
