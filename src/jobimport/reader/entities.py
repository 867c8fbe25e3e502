"""HTML entities and stray ampersands made into XML, in the byte stream, without any DTD.

Real generators write `&nbsp;`, `&eacute;` and bare `&` (`?a=1&b=2`) into RSS. Outside CDATA
sections, comments, processing instructions and the DOCTYPE, `EntityRewriter` turns each HTML5
named reference that ends in `;` (other than XML's own five) into numeric references, which the
XML parser decodes with no DTD, and every `&` that does not start a reference into `&amp;`, so a
bare `&`, an `&` without `;` and an unknown `&foo;` read as the literal text they are. It works on
UTF-8 (`decode.Decoder`'s output), where every byte of markup is ASCII. A token cut by a chunk
boundary is held until the next chunk. The DOCTYPE passes untouched: refusing entity declarations
stays the parser's job.
"""

from __future__ import annotations

import re
from html.entities import html5

__all__ = ["HTML_ENTITY", "MAX_REFERENCE", "EntityRewriter"]

HTML_ENTITY = "html_entity"  # the value of models.WarningReason.HTML_ENTITY
MAX_REFERENCE = 64
"""Longest reference kept, `&` and `;` included: the longest HTML5 name has 31 characters."""

_PREDEFINED = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})


def _numeric(name: str, chars: str) -> bytes:
    """`chars` as decimal references, zero-padded to the length of `&name;` where one is shorter
    (so that error columns past it stay right)."""
    refs = "".join(f"&#{ord(char)};" for char in chars)
    width = len(name) + 2
    if len(chars) == 1 and len(refs) < width:
        refs = f"&#{ord(chars):0{width - 3}d};"
    return refs.encode()


_KNOWN = {
    name[:-1].encode(): _numeric(name[:-1], chars)
    for name, chars in html5.items()
    if name.endswith(";") and name[:-1].encode() not in _PREDEFINED
}
# After `&`: `#` and the digits of a character reference, or a name; then `;` if there is one.
_REFERENCE = re.compile(rb"&(?:(#)([xX]?)([0-9A-Za-z]{0,64})|([A-Za-z][A-Za-z0-9]{0,64}))(;?)")
_CDATA, _CDATA_END, _DOCTYPE = b"<![CDATA[", b"]]>", b"<!DOCTYPE"
_OPENERS = (_CDATA, b"<!--", _DOCTYPE)
_CUT_TOKENS = (*_OPENERS, b"<?", _CDATA_END)
_DOCTYPE_TOKEN = re.compile(rb"""["'\[\]>]|<!--|<\?""")
_HEX = re.compile(rb"[0-9A-Fa-f]+")
# References `_reference` keeps as they are (MAX_REFERENCE bytes at most).
_VALID = re.compile(rb"&(?:amp|lt|gt|quot|apos|#[0-9]{1,61}|#x[0-9A-Fa-f]{1,60});")
_ESCAPED = b"&amp;"


class EntityRewriter:
    """Streaming rewrite of a UTF-8 document: feed() chunks, close() at the end.

    Each call returns the rewritten bytes and `marks`: the offsets in them just past every
    rewrite, so that the caller can tell which item each belongs to.
    """

    def __init__(self) -> None:
        self._carry = b""  # the start of a token cut by the end of the last chunk
        self._closer: bytes | None = None  # the end of the CDATA section, comment or PI we are in
        self._doctype: _Doctype | None = None

    def feed(self, data: bytes) -> tuple[bytes, list[int]]:
        return self._rewrite(data, final=False)

    def close(self) -> tuple[bytes, list[int]]:
        """What is held back; a cut token is taken as the text it is."""
        return self._rewrite(b"", final=True)

    def _rewrite(self, data: bytes, *, final: bool) -> tuple[bytes, list[int]]:
        buf = self._carry + data if self._carry else data
        if (
            self._doctype is None
            and (self._closer is None or self._closer is _CDATA_END)
            and _DOCTYPE not in buf
            and b"<!--" not in buf
            and not _has_pi(buf)
        ):
            return self._rewrite_cdata_only(buf, final)
        # A step per construct: single bytes are looked for with bytes.find (memchr): `&`, `!`
        # and `?` for `<!` and `<?`, `]` for `]]>`; longer needles and regular expressions cost
        # many times more over a whole document.
        find, startswith = buf.find, buf.startswith
        end = len(buf)
        out: list[bytes] = []
        marks: list[int] = []
        size = done = pos = 0  # size: bytes in out; done: buf[:done] is in out
        keep = end  # buf[keep:] waits for the next chunk
        amp = bang = query = -1  # the next `&`, `!`, `?` at or after pos; end when none
        if self._closer is not None or self._doctype is not None:
            pos, keep = self._skip(buf, pos, final)
        while pos >= 0:
            if amp < pos:
                amp = find(b"&", pos)
                if amp < 0:
                    amp = end
            if bang < pos:
                bang = find(b"!", pos)
                if bang < 0:
                    bang = end
            if query < pos:
                query = find(b"?", pos)
                if query < 0:
                    query = end
            if bang < amp and bang < query:
                start = bang - 1
                pos = bang + 1
                if start < 0 or buf[start] != 0x3C:  # a `!` in text
                    continue
                if startswith(b"<![CDATA[", start):  # the common case, inlined
                    found = start + 8
                    while (found := find(b"]", found + 1)) >= 0 and not startswith(b"]]>", found):
                        pass
                    if found >= 0:
                        pos = found + 3
                        continue
                    self._closer, pos = _CDATA_END, start + 9
                elif startswith(b"<!--", start):
                    self._closer, pos = b"-->", start + 4
                elif startswith(_DOCTYPE, start):
                    self._doctype, pos = _Doctype(), start + len(_DOCTYPE)
                elif not final and _cut_opener(buf, start):
                    keep = start
                    break
                else:
                    continue
                pos, keep = self._skip(buf, pos, final)
            elif query < amp:
                pos = query + 1
                if query and buf[query - 1] == 0x3C:  # `<?`
                    self._closer = b"?>"
                    pos, keep = self._skip(buf, pos, final)
            elif amp < end:
                replacement, after = _reference(buf, amp, final)
                if after < 0:
                    keep = amp
                    break
                if replacement:
                    size = _splice(out, marks, size, buf[done:amp], replacement)
                    done = after
                pos = after
            else:
                if not final and buf.endswith(b"<", pos):  # perhaps `<!` or `<?` to come
                    keep = end - 1
                break
        out.append(buf[done:keep])
        self._carry = buf[keep:]
        return (out[0] if len(out) == 1 else b"".join(out)), marks

    def _rewrite_cdata_only(self, buf: bytes, final: bool) -> tuple[bytes, list[int]]:
        """_rewrite for the common chunk: no comment, PI or DOCTYPE, only CDATA sections.

        A step per `&` instead of per construct, and one cheap test for the usual `&amp;` or
        `&#8211;`, which stay wherever they are. Whether any other `&` is in a CDATA section is
        read backwards from it: from a point `lo` outside any, it is in one exactly when the last
        `<![CDATA[` before it comes after the last `]]>` (an opener inside a section is text,
        and any `]]>` ends a section or is stray text)."""
        find, valid = buf.find, _VALID.match
        end = len(buf)
        keep = end if final else _held_tail(buf)
        out: list[bytes] = []
        marks: list[int] = []
        size = done = lo = 0  # lo: a point outside any CDATA section
        inside = False  # whether keep is in a CDATA section
        if self._closer is _CDATA_END:
            found = _cdata_end(buf, 0)
            inside = found < 0 or found + 3 > keep
            lo = 0 if inside else found + 3
        pos = lo
        while not inside and (amp := find(b"&", pos, keep)) >= 0:
            if kept := valid(buf, amp):
                pos = kept.end()
                continue
            if _last_opener(buf, lo, amp) > _last_closer(buf, lo, amp):  # in a section: skip it
                found = _cdata_end(buf, amp)
                inside = found < 0 or found + 3 > keep
                lo = pos = found + 3
                continue
            replacement, after = _reference(buf, amp, final)
            if after < 0:
                keep = amp
                break
            if replacement:
                size = _splice(out, marks, size, buf[done:amp], replacement)
                done = after
            lo = pos = after
        else:
            if not inside:
                inside = _last_opener(buf, lo, keep) > _last_closer(buf, lo, keep)
        self._closer = _CDATA_END if inside else None
        out.append(buf[done:keep])
        self._carry = buf[keep:]
        return (out[0] if len(out) == 1 else b"".join(out)), marks

    def _skip(self, buf: bytes, pos: int, final: bool) -> tuple[int, int]:
        """Past the end of the section or DOCTYPE we are in: (where to go on, len(buf)), or
        (-1, the offset from which to hold `buf` back) when it does not end in `buf`."""
        end = len(buf)
        if self._doctype is not None:
            pos, keep = self._doctype.scan(buf, pos, final)
            if pos >= 0:
                self._doctype = None
            return pos, keep
        closer = self._closer
        assert closer is not None
        found = _cdata_end(buf, pos) if closer is _CDATA_END else buf.find(closer, pos)
        if found < 0:
            # The closer may straddle the boundary: hold its possible start.
            return -1, end if final else max(pos, end - len(closer) + 1)
        self._closer = None
        return found + len(closer), end


def _cdata_end(buf: bytes, pos: int) -> int:
    """Where the `]]>` at or after `pos` starts, or -1 (memchr for `]`, which is rare)."""
    while True:
        found = buf.find(b"]", pos)
        if found < 0 or buf.startswith(_CDATA_END, found):
            return found
        pos = found + 1


def _last_opener(buf: bytes, lo: int, hi: int) -> int:
    """Where the last `<![CDATA[` in buf[lo:hi] starts, or -1 (memrchr for `[`, which is rare)."""
    rfind = buf.rfind
    while (found := rfind(b"[", lo + 8, hi)) >= 0:
        if buf[found - 8 : found + 1] == _CDATA:
            return found - 8
        hi = found
    return -1


def _last_closer(buf: bytes, lo: int, hi: int) -> int:
    """Where the last `]]>` in buf[lo:hi] starts, or -1 (memrchr for `>` would stop at every tag:
    `]` is rare)."""
    rfind = buf.rfind
    while (found := rfind(b"]", lo + 1, hi - 1)) >= 0:
        if buf[found - 1 : found + 2] == _CDATA_END:
            return found - 1
        hi = found
    return -1


def _has_pi(buf: bytes) -> bool:
    """Whether `buf` holds `<?`: memchr for `?` costs less than looking for two bytes."""
    find, pos = buf.find, 0
    while (found := find(b"?", pos)) >= 0:
        if found and buf[found - 1] == 0x3C:
            return True
        pos = found + 1
    return False


def _held_tail(buf: bytes) -> int:
    """Where a token cut by the end of `buf` starts (`<![CD`, `<!-`, `<`, `]]`), else len(buf)."""
    end = len(buf)
    for start in range(max(0, end - len(_DOCTYPE) + 1), end):
        rest = buf[start:]
        if rest[0] in b"<]" and any(token.startswith(rest) for token in _CUT_TOKENS):
            return start
    return end


def _cut_opener(buf: bytes, start: int) -> bool:
    """Whether `buf[start:]` is the start of `<![CDATA[`, `<!--` or `<!DOCTYPE`, cut short."""
    rest = buf[start:]
    return len(rest) < len(_DOCTYPE) and any(o.startswith(rest) for o in _OPENERS)


def _reference(buf: bytes, start: int, final: bool) -> tuple[bytes, int]:
    """At `&`: (its replacement, b"" to keep it, and the offset after it); offset -1 when the
    chunk ends before the reference can be told apart."""
    match = _REFERENCE.match(buf, start)
    after = start + 1
    if match is None:
        return (b"", -1) if after == len(buf) and not final else (_ESCAPED, after)
    hash_, x, digits, name, semicolon = match.groups()
    end = match.end()
    if not semicolon:
        if not final and end == len(buf) and end - start < MAX_REFERENCE:
            return b"", -1
        return _ESCAPED, after
    if end - start > MAX_REFERENCE:
        return _ESCAPED, after
    if hash_:
        if x and digits and _HEX.fullmatch(digits):
            return (b"&#x" + digits + b";" if x == b"X" else b""), end  # HTML allows `&#X`
        if not x and digits.isdigit():
            return b"", end
        return _ESCAPED, after
    if name in _PREDEFINED:
        return b"", end
    known = _KNOWN.get(name)
    if known is None:
        return _ESCAPED, after
    return known, end


class _Doctype:
    """Where a DOCTYPE ends: at `>` outside quotes, comments, PIs and the internal subset."""

    __slots__ = ("closer", "depth", "quote")

    def __init__(self) -> None:
        self.quote: bytes | None = None
        self.closer: bytes | None = None
        self.depth = 0

    def scan(self, buf: bytes, pos: int, final: bool) -> tuple[int, int]:
        """(the offset after the DOCTYPE, len(buf)) once it ends in `buf`; else (-1, the offset
        from which to hold `buf` back for the next chunk)."""
        end = len(buf)
        while True:
            closer = self.quote or self.closer
            if closer is not None:
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
            if token in (b'"', b"'"):
                self.quote = token
            elif token == b"[":
                self.depth += 1
            elif token == b"]":
                self.depth = max(0, self.depth - 1)
            elif token == b">":
                if self.depth == 0:
                    return pos, end
            else:
                self.closer = b"-->" if token == b"<!--" else b"?>"


def _splice(out: list[bytes], marks: list[int], size: int, kept: bytes, replacement: bytes) -> int:
    """Append the bytes before a rewritten reference and its replacement to `out`, mark where the
    replacement ends in the output, and return the output's new size."""
    out.append(kept)
    out.append(replacement)
    size += len(kept) + len(replacement)
    marks.append(size)
    return size
