"""A minimal DOM built with `html.parser`, to assert the structure of the HTML report."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["Node", "parse"]

_VOID = {"meta", "br", "img", "input", "link", "hr", "source", "wbr", "area", "base", "col"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def iter(self, tag: str | None = None) -> Iterator[Node]:
        """This node and every node below it, in document order, with the given tag."""
        if tag is None or self.tag == tag:
            yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter(tag)

    def find(self, tag: str, **attrs: str) -> Node:
        """The first node below with `tag` whose attributes include `attrs` (`cls` = class)."""
        wanted = {("class" if k == "cls" else k): v for k, v in attrs.items()}
        for node in self.iter(tag):
            if all(node.attrs.get(k) == v for k, v in wanted.items()):
                return node
        raise LookupError(f"no <{tag}> with {wanted}")

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        if self.stack[-1].tag != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1].tag}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(document: str) -> Node:
    """The tree of `document`; a mismatched or unclosed tag is an `AssertionError`."""
    builder = _Builder()
    builder.feed(document)
    builder.close()
    assert not builder.errors, builder.errors
    assert builder.stack == [builder.root], [n.tag for n in builder.stack]
    return builder.root
