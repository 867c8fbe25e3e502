"""One `<item>` as parsed, before any interpretation: what the parser hands the normalizer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RawElement:
    """One XML element of an item: `ns` is the namespace URI, `prefix` as the document wrote it."""

    local: str
    ns: str | None = None
    prefix: str | None = None
    text: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    children: tuple[RawElement, ...] = ()

    @property
    def name(self) -> str:
        """The element name as the feed wrote it, e.g. `job_listing:company`."""
        return f"{self.prefix}:{self.local}" if self.prefix else self.local


@dataclass(frozen=True, slots=True)
class RawItem:
    """One `<item>` (or Atom `<entry>`) as parsed, before any interpretation. `position` is
    0-based in the document; `warnings` names what was read leniently in it (`models.WarningReason`
    values: `html_entity`, `undeclared_prefix`). `ns` is the item element's namespace URI (RSS 1.0,
    Atom, a namespaced RSS 2.0), `about` its `rdf:about`, `bases` the `xml:base` values on it and
    its ancestors, outermost first, as written. A JSON Feed item (`jsonfeed.py`) keeps its item
    object in `source_json`: that is its `to_json()`."""

    position: int
    elements: tuple[RawElement, ...]
    line: int | None = None
    warnings: frozenset[str] = frozenset()
    ns: str | None = None
    about: str = ""
    bases: tuple[str, ...] = ()
    source_json: Any = None  # a JSON Feed item: the item object as the feed wrote it

    def find(self, local: str, ns: str | None = None) -> RawElement | None:
        """First child element with this local name and namespace URI (None = no namespace)."""
        for element in self.elements:
            if element.local == local and element.ns == ns:
                return element
        return None

    def to_json(self) -> dict[str, Any]:
        """The item as JSON, xmltodict-style: text-only elements become strings, attributes `@name`,
        mixed text `#text`, repeated names become lists. Element names keep their prefixes."""
        if self.source_json is not None:
            return dict(self.source_json) if isinstance(self.source_json, dict) else {}
        return _elements_to_json(self.elements)


def _element_to_json(element: RawElement) -> Any:
    if not element.attrs and not element.children:
        return element.text
    value: dict[str, Any] = {f"@{k}": v for k, v in element.attrs.items()}
    value.update(_elements_to_json(element.children))
    if element.text:
        value["#text"] = element.text
    return value


def _elements_to_json(elements: tuple[RawElement, ...]) -> dict[str, Any]:
    grouped: dict[str, list[Any]] = {}
    for element in elements:
        grouped.setdefault(element.name, []).append(_element_to_json(element))
    return {name: values[0] if len(values) == 1 else values for name, values in grouped.items()}
