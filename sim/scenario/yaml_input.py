"""Reading YAML input safely: duplicate keys, alias bombs, dates, encodings, deep nesting.

Every scenario file, sweep file and ``--set`` value goes through :func:`parse_yaml`. On top of
PyYAML's ``safe_load`` it

- refuses a key given twice in one mapping (plain YAML keeps the last one silently), naming the
  line of both;
- refuses documents whose aliases expand to more than :data:`MAX_EXPANDED_NODES` nodes (a
  "billion laughs" file is a few hundred bytes that expand to 10^9 values) and recursive aliases;
- keeps unquoted dates (``2025-01-06``) as the text written, so a date quoted or not gives the
  same value and the same message when it is wrong (PyYAML would raise on ``2025-13-01``);
- reads only UTF-8 text, and turns a nesting too deep for the parser into a message.

Problems raise :class:`YamlInputError` whose text starts with the file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_EXPANDED_NODES = 200_000  # a scenario has ~300 values, a large sweep file a few thousand
MAX_MESSAGE_VALUE_CHARS = 80


class YamlInputError(ValueError):
    """The text cannot be read as scenario input; the message names the source and line.

    ``reason`` is the message without its ``source:line:`` prefix.
    """

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}")
        self.reason = reason


def short(value: Any, limit: int = MAX_MESSAGE_VALUE_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters (a message never carries a huge value).

    Containers are cut before they are formatted, so this is cheap even for a huge value.
    """
    if isinstance(value, (list, tuple, set, dict)) and len(value) > 8:
        kind = type(value).__name__
        return f"<{kind} of {len(value)} items>"
    try:
        text = repr(value)
    except RecursionError:
        return f"<deeply nested {type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def clip(text: str, limit: int = MAX_MESSAGE_VALUE_CHARS) -> str:
    """``text`` cut to ``limit`` characters (for command-line arguments quoted in messages)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and keeps timestamps as strings."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: SafeLoader's own error says so
                    break
                line = key_node.start_mark.line + 1
                if first is not None:
                    raise YamlInputError(
                        f"{self.name}:{line}", f"duplicate key {short(key)} (first given on line {first}); "
                        "a key may appear once in a mapping")
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


# dates stay the text written: the schema checks them (quoted or not, the same message)
StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _expanded_size(root, source: str) -> int:
    """Nodes of the document with every alias expanded (memoised, so linear in the node graph)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise YamlInputError(f"{source}:{node.start_mark.line + 1}", "an alias refers to the node that "
                                 "contains it (a recursive value); expected plain values")
        active.add(key)
        if isinstance(node, yaml.SequenceNode):
            n = 1 + sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            n = 1 + sum(size(k) + size(v) for k, v in node.value)
        else:
            n = 1
        active.discard(key)
        sizes[key] = n
        if n > MAX_EXPANDED_NODES:
            raise YamlInputError(
                f"{source}:{node.start_mark.line + 1}", f"the aliases (*name) here expand to more than "
                f"{MAX_EXPANDED_NODES:,} values; expected a scenario of plain values")
        return n

    return size(root)


def parse_yaml(text: str, source: str) -> Any:
    """Parse one YAML document from ``text``; ``source`` (file name or ``--set ...``) starts every message."""
    loader = StrictLoader(text)
    loader.name = source
    try:
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _expanded_size(node, source)
            return loader.construct_document(node)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc)
            if mark is not None:
                raise YamlInputError(f"{source}:{mark.line + 1}:{mark.column + 1}", f"YAML syntax error: {problem} "
                                     f"(line {mark.line + 1}, column {mark.column + 1})") from None
            raise YamlInputError(source, f"YAML syntax error: {problem}") from None
        except RecursionError:
            raise YamlInputError(source, "the YAML is nested too deeply to read; expected a scenario "
                                 "of a few levels of sections") from None
    finally:
        loader.dispose()


def read_yaml_file(path: Path, max_bytes: int = 20_000_000) -> Any:
    """Parse the YAML file at ``path`` (UTF-8 text only; at most ``max_bytes``)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise YamlInputError(str(path), f"cannot read the file ({exc.strerror})") from None
    if size > max_bytes:
        raise YamlInputError(str(path), f"the file is {size:,} bytes; a scenario or sweep file is expected to be "
                             f"far smaller (at most {max_bytes:,})")
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlInputError(str(path), "the file is UTF-16 text; save it as UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlInputError(f"{path}:{line}", f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                             "expected a YAML text file saved as UTF-8") from None
    return parse_yaml(text, str(path))
