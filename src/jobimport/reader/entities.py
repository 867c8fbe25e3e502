"""HTML entities and stray ampersands made into XML, in the text stream, without any DTD.

Real generators write `&nbsp;`, `&eacute;` and bare `&` (`?a=1&b=2`) into RSS. Outside CDATA
sections, comments, processing instructions and the DOCTYPE, `EntityRewriter` turns each HTML5
named reference that ends in `;` (other than XML's own five) into numeric references, which the
XML parser decodes with no DTD, and every `&` that does not start a reference into `&amp;`, so a
bare `&`, an `&` without `;` and an unknown `&foo;` read as the literal text they are. A token
cut by a chunk boundary is held until the next chunk. The DOCTYPE passes untouched: refusing
entity declarations stays the parser's job.
"""

from __future__ import annotations

import re
from html.entities import html5

__all__ = ["HTML_ENTITY", "MAX_REFERENCE", "EntityRewriter"]

HTML_ENTITY = "html_entity"  # the value of models.WarningReason.HTML_ENTITY
MAX_REFERENCE = 64
"""Longest reference kept, `&` and `;` included: the longest HTML5 name has 31 characters."""

_PREDEFINED = frozenset({"amp", "lt", "gt", "quot", "apos"})


def _numeric(name: str, chars: str) -> str:
    """`chars` as decimal references, zero-padded to the length of `&name;` where one is shorter
    (so that error columns past it stay right)."""
    refs = "".join(f"&#{ord(char)};" for char in chars)
    width = len(name) + 2
    if len(chars) == 1 and len(refs) < width:
        refs = f"&#{ord(chars):0{width - 3}d};"
    return refs


_KNOWN = {
    name[:-1]: _numeric(name[:-1], chars)
    for name, chars in html5.items()
    if name.endswith(";") and name[:-1] not in _PREDEFINED
}
# After `&`: `#` and the digits of a character reference, or a name; then `;` if there is one.
_REFERENCE = re.compile(r"&(?:(#)([xX]?)([0-9A-Za-z]{0,64})|([A-Za-z][A-Za-z0-9]{0,64}))(;?)")
_SCAN = re.compile(r"&|<[!?]")
_OPENERS = (("<![CDATA[", "]]>"), ("<!--", "-->"))
_DOCTYPE = "<!DOCTYPE"
_DOCTYPE_TOKEN = re.compile(r"""["'\[\]>]|<!--|<\?""")
_HEX = frozenset("0123456789abcdefABCDEF")
_ESCAPED = "&amp;"


class EntityRewriter:
    """Streaming rewrite of decoded document text: feed() chunks, close() at the end.

    Each call returns the rewritten text and `marks`: the offsets in it just past every rewrite,
    so that the caller can tell which item each belongs to.
    """

    def __init__(self) -> None:
        self._carry = ""  # the start of a token cut by the end of the last chunk
        self._closer: str | None = None  # the end of the CDATA section, comment or PI we are in
        self._doctype: _Doctype | None = None

    def feed(self, text: str) -> tuple[str, list[int]]:
        return self._rewrite(text, final=False)

    def close(self) -> tuple[str, list[int]]:
        """What is held back; a cut token is taken as the text it is."""
        return self._rewrite("", final=True)

    def _rewrite(self, text: str, *, final: bool) -> tuple[str, list[int]]:
        buf = self._carry + text if self._carry else text
        end = len(buf)
        out: list[str] = []
        marks: list[int] = []
        size = done = pos = 0  # size: characters in out; done: buf[:done] is in out
        keep = end  # buf[keep:] waits for the next chunk
        while True:
            if self._doctype is not None:
                pos, keep = self._doctype.scan(buf, pos, final)
                if pos < 0:
                    break
                self._doctype = None
                continue
            closer = self._closer
            if closer is not None:
                found = buf.find(closer, pos)
                if found < 0:
                    if not final:  # the closer may straddle the boundary
                        keep = max(pos, end - len(closer) + 1)
                    break
                pos = found + len(closer)
                self._closer = None
                continue
            match = _SCAN.search(buf, pos)
            if match is None:
                if not final and buf.endswith("<", pos):  # perhaps `<!` or `<?` to come
                    keep = end - 1
                break
            start = match.start()
            if buf[start] == "&":
                replacement, after = _reference(buf, start, final)
                if after < 0:
                    keep = start
                    break
                if replacement:
                    out.append(buf[done:start])
                    out.append(replacement)
                    size += start - done + len(replacement)
                    marks.append(size)
                    done = after
                pos = after
            elif buf[start + 1] == "?":
                self._closer, pos = "?>", start + 2
            else:
                pos, cut = self._open(buf, start, final)
                if cut:
                    keep = start
                    break
        out.append(buf[done:keep])
        self._carry = buf[keep:]
        return "".join(out), marks

    def _open(self, buf: str, start: int, final: bool) -> tuple[int, bool]:
        """At `<!`: enter a CDATA section, comment or DOCTYPE; (where to go on, whether the
        opener is cut by the end of `buf`)."""
        for opener, closer in _OPENERS:
            if buf.startswith(opener, start):
                self._closer = closer
                return start + len(opener), False
        if buf.startswith(_DOCTYPE, start):
            self._doctype = _Doctype()
            return start + len(_DOCTYPE), False
        rest = buf[start : start + len(_DOCTYPE)]
        cut = not final and len(rest) < len(_DOCTYPE) and buf.endswith(rest)
        if cut and any(o.startswith(rest) for o in ("<![CDATA[", "<!--", _DOCTYPE)):
            return start, True
        return start + 2, False


def _reference(buf: str, start: int, final: bool) -> tuple[str, int]:
    """At `&`: (its replacement, "" to keep it, and the offset after it); offset -1 when the
    chunk ends before the reference can be told apart."""
    match = _REFERENCE.match(buf, start)
    after = start + 1
    if match is None:
        return ("", -1) if after == len(buf) and not final else (_ESCAPED, after)
    hash_, x, digits, name, semicolon = match.groups()
    end = match.end()
    if not semicolon:
        if not final and end == len(buf) and end - start < MAX_REFERENCE:
            return "", -1
        return _ESCAPED, after
    if end - start > MAX_REFERENCE:
        return _ESCAPED, after
    if hash_:
        if not digits:
            return _ESCAPED, after
        if x:
            if not _HEX.issuperset(digits):
                return _ESCAPED, after
            return ("&#x" + digits + ";" if x == "X" else ""), end  # HTML allows `&#X`
        return ("", end) if digits.isdigit() else (_ESCAPED, after)
    if name in _PREDEFINED:
        return "", end
    known = _KNOWN.get(name)
    if known is None:
        return _ESCAPED, after
    return known, end


class _Doctype:
    """Where a DOCTYPE ends: at `>` outside quotes, comments, PIs and the internal subset."""

    __slots__ = ("closer", "depth", "quote")

    def __init__(self) -> None:
        self.quote: str | None = None
        self.closer: str | None = None
        self.depth = 0

    def scan(self, buf: str, pos: int, final: bool) -> tuple[int, int]:
        """(the offset after the DOCTYPE, len(buf)) once it ends in `buf`; else (-1, the offset
        from which to hold `buf` back for the next chunk)."""
        end = len(buf)
        while True:
            if self.quote is not None or self.closer is not None:
                closer = self.quote or self.closer or ""
                found = buf.find(closer, pos)
                if found < 0:
                    hold = end if final or self.quote else max(pos, end - len(closer) + 1)
                    return -1, hold
                pos = found + len(closer)
                self.quote = self.closer = None
                continue
            match = _DOCTYPE_TOKEN.search(buf, pos)
            if match is None:
                return -1, end if final else max(pos, end - 3)  # perhaps a cut `<!--`
            token, pos = match.group(), match.end()
            if token in "\"'":
                self.quote = token
            elif token == "[":
                self.depth += 1
            elif token == "]":
                self.depth = max(0, self.depth - 1)
            elif token == ">":
                if self.depth == 0:
                    return pos, end
            else:
                self.closer = "-->" if token == "<!--" else "?>"
