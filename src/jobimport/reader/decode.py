"""Body bytes to UTF-8: the encoding chosen as RFC 7303 orders it, labels read as browsers do.

The order (DESIGN §4): a byte-order mark, then the `charset` of the HTTP Content-Type, then the
XML declaration, then UTF-8 if the first `SNIFF_BYTES` are valid UTF-8 and windows-1252 if not.
Labels resolve by the WHATWG Encoding Standard, so `iso-8859-1` and `us-ascii` decode as
windows-1252 and curly quotes survive. XML cannot hold NUL, so a NUL among the first two bytes
means UTF-16 without a BOM whatever a label says, and a UTF-16 label on bytes without one is
ignored. Bytes invalid in the chosen encoding become U+FFFD (`replaced` notes it): decoding never
ends a document. UTF-8 and ASCII pass through as they are once checked, the common case.
"""

from __future__ import annotations

import codecs
import functools
import re
import threading
from collections.abc import Callable

__all__ = ["ENCODING_REPLACED", "SNIFF_BYTES", "Decoder", "resolve_label"]

ENCODING_REPLACED = "encoding_replaced"  # the value of models.WarningReason.ENCODING_REPLACED
SNIFF_BYTES = 64 * 1024
"""Bytes judged for UTF-8 when nothing names the encoding."""
MAX_DECLARATION = 1024
"""Bytes searched for the end of an XML declaration."""

# WHATWG names (Encoding Standard, encodings.json) and their labels. `replacement` and
# `x-user-defined` are left out: such a label counts as no label.
_LABELS = {
    "utf-8": "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8",
    "ibm866": "866 cp866 csibm866 ibm866",
    "iso-8859-2": "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 "
    "iso_8859-2:1987 l2 latin2",
    "iso-8859-3": "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 "
    "iso_8859-3:1988 l3 latin3",
    "iso-8859-4": "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 "
    "iso_8859-4:1988 l4 latin4",
    "iso-8859-5": "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 "
    "iso_8859-5 iso_8859-5:1988",
    "iso-8859-6": "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 iso-8859-6 "
    "iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 iso_8859-6:1987",
    "iso-8859-7": "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 "
    "iso8859-7 iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek",
    "iso-8859-8": "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 "
    "iso8859-8 iso88598 iso_8859-8 iso_8859-8:1988 visual",
    "iso-8859-8-i": "csiso88598i iso-8859-8-i logical",
    "iso-8859-10": "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6",
    "iso-8859-13": "iso-8859-13 iso8859-13 iso885913",
    "iso-8859-14": "iso-8859-14 iso8859-14 iso885914",
    "iso-8859-15": "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9",
    "iso-8859-16": "iso-8859-16",
    "koi8-r": "cskoi8r koi koi8 koi8-r koi8_r",
    "koi8-u": "koi8-ru koi8-u",
    "macintosh": "csmacintosh mac macintosh x-mac-roman",
    "windows-874": "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874",
    "windows-1250": "cp1250 windows-1250 x-cp1250",
    "windows-1251": "cp1251 windows-1251 x-cp1251",
    "windows-1252": "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 "
    "iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252",
    "windows-1253": "cp1253 windows-1253 x-cp1253",
    "windows-1254": "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 "
    "iso_8859-9:1989 l5 latin5 windows-1254 x-cp1254",
    "windows-1255": "cp1255 windows-1255 x-cp1255",
    "windows-1256": "cp1256 windows-1256 x-cp1256",
    "windows-1257": "cp1257 windows-1257 x-cp1257",
    "windows-1258": "cp1258 windows-1258 x-cp1258",
    "x-mac-cyrillic": "x-mac-cyrillic x-mac-ukrainian",
    "gbk": "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk",
    "gb18030": "gb18030",
    "big5": "big5 big5-hkscs cn-big5 csbig5 x-x-big5",
    "euc-jp": "cseucpkdfmtjapanese euc-jp x-euc-jp",
    "iso-2022-jp": "csiso2022jp iso-2022-jp",
    "shift_jis": "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis",
    "euc-kr": "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 "
    "ksc5601 ksc_5601 windows-949",
    "utf-16be": "unicodefffe utf-16be",
    "utf-16le": "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le",
}
_BY_LABEL = {label: name for name, labels in _LABELS.items() for label in labels.split()}
# Python's codec where its name differs: WHATWG's decoders are the Microsoft supersets.
_CODECS = {
    "ibm866": "cp866",
    "iso-8859-8-i": "iso8859-8",
    "macintosh": "mac-roman",
    "windows-874": "cp874",
    "x-mac-cyrillic": "mac-cyrillic",
    "gbk": "gb18030",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc-kr": "cp949",
    "utf-16be": "utf-16-be",
    "utf-16le": "utf-16-le",
}
_MULTI_BYTE = frozenset(
    {"utf-8", "gbk", "gb18030", "big5", "euc-jp", "iso-2022-jp", "shift_jis", "euc-kr"}
)
_UTF16 = frozenset({"utf-16le", "utf-16be"})
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16le"), (b"\xfe\xff", "utf-16be"))
_DECLARED = re.compile(rb"""^<\?xml\s[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_LABEL_SPACE = "\t\n\f\r "
_NON_ASCII = re.compile(rb"[\x80-\xff]")

_HANDLER = "jobimport.reader.decode.replace"
_seen = threading.local()


def _replace(exc: UnicodeError) -> tuple[str, int]:
    """`errors="replace"` that also notes, for this thread, that it replaced something."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _seen.hit = True
    return "\ufffd", exc.end


codecs.register_error(_HANDLER, _replace)


def resolve_label(label: str | None) -> str | None:
    """The WHATWG encoding name of `label` (`"ISO-8859-1"` → `"windows-1252"`), or None."""
    if not label:
        return None
    return _BY_LABEL.get(label.strip(_LABEL_SPACE).lower())


class Decoder:
    """Incremental bytes → UTF-8 for one document; `charset` is the HTTP Content-Type's, if any.

    Holds the first bytes until the encoding can be chosen (a few bytes with a BOM, a charset or
    a declaration; `SNIFF_BYTES` with none of them), then decodes each chunk as it comes. While
    the choice waits for `SNIFF_BYTES`, the bytes up to the first non-ASCII one are given out
    already: they read alike in UTF-8 and windows-1252. The BOM is dropped.
    """

    def __init__(self, charset: str | None = None) -> None:
        self.encoding: str | None = None
        """The WHATWG name of the encoding, once chosen."""
        self.replaced = False
        """Whether any bytes were invalid in the encoding and became U+FFFD."""
        self._charset = resolve_label(charset)
        self._head = bytearray()
        self._given = 0  # bytes of the head already given out as ASCII text
        self._undeclared = False  # no BOM, charset or declaration: only the UTF-8 test is left
        self._decode: Callable[[bytes, bool], bytes] | None = None

    def feed(self, data: bytes) -> bytes:
        if self._decode is None:
            self._head += data
            if not self._choose(final=False):
                return self._ascii_run() if self._undeclared else b""
            data = self._take_head()
        return self._run(data, False)

    def close(self) -> bytes:
        """The bytes still held, as UTF-8: the last, possibly incomplete, character included."""
        data = b""
        if self._decode is None:
            self._choose(final=True)
            data = self._take_head()
        return self._run(data, True)

    def _run(self, data: bytes, final: bool) -> bytes:
        decode = self._decode
        assert decode is not None
        _seen.hit = False
        utf8 = decode(data, final)
        if _seen.hit:
            self.replaced = True
        return utf8

    def _ascii_run(self) -> bytes:
        head, start = self._head, self._given
        found = _NON_ASCII.search(head, start)
        self._given = end = len(head) if found is None else found.start()
        return bytes(head[start:end])

    def _take_head(self) -> bytes:
        data = bytes(self._head[self._given :])
        self._head = bytearray()
        return data

    def _choose(self, *, final: bool) -> bool:
        """Pick the encoding once the bytes held are enough; False while they are not."""
        head = self._head
        encoding = None
        if self._undeclared:
            if len(head) < SNIFF_BYTES and not final:
                return False
            encoding = _utf8_or_1252(bytes(head[:SNIFF_BYTES]))
        elif len(head) < 6 and not final:  # enough for a BOM, a NUL or `<?xml `
            return False
        else:
            for bom, name in _BOMS:
                if head.startswith(bom):
                    del head[: len(bom)]
                    encoding = name
                    break
            else:
                encoding = _utf16_by_nul(head) or _usable(self._charset)
                if encoding is None:
                    end = head.find(b"?>", 0, MAX_DECLARATION) if head.startswith(b"<?xml") else 0
                    if end < 0 and len(head) < MAX_DECLARATION and not final:
                        return False
                    encoding = _usable(_declared(bytes(head[: max(end, 0)])))
                if encoding is None:
                    self._undeclared = True
                    return self._choose(final=final)
        self.encoding = encoding
        self._decode = _decoder(encoding)
        return True


def _utf16_by_nul(head: bytearray) -> str | None:
    """UTF-16 without a BOM: XML holds no NUL, so one among the first two bytes tells the order."""
    if len(head) >= 2 and (head[0] == 0) != (head[1] == 0):
        return "utf-16be" if head[0] == 0 else "utf-16le"
    return None


def _usable(encoding: str | None) -> str | None:
    """`encoding` unless the bytes contradict it: called when the first two bytes hold no NUL,
    which UTF-16 text starting with `<` or a space would."""
    return None if encoding in _UTF16 else encoding


def _declared(declaration: bytes) -> str | None:
    match = _DECLARED.match(declaration)
    return resolve_label(match.group(1).decode("ascii")) if match else None


def _utf8_or_1252(head: bytes) -> str:
    try:
        codecs.utf_8_decode(head, "strict", False)  # a character cut at the end is fine
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


def _decoder(encoding: str) -> Callable[[bytes, bool], bytes]:
    """A function of (bytes, whether they are the last) → UTF-8 for `encoding`."""
    if encoding == "utf-8":
        return _Utf8()
    codec = _CODECS.get(encoding, encoding)
    if encoding in _MULTI_BYTE or encoding in _UTF16:
        incremental = codecs.getincrementaldecoder(codec)(_HANDLER).decode

        def decode(data: bytes, final: bool) -> bytes:
            return incremental(data, final).encode()

        return decode
    table = _single_byte_table(encoding, codec)
    charmap_decode = codecs.charmap_decode

    def decode_single(data: bytes, final: bool) -> bytes:
        # Every WHATWG single-byte encoding keeps ASCII as it is.
        return data if data.isascii() else charmap_decode(data, _HANDLER, table)[0].encode()

    return decode_single


class _Utf8:
    """UTF-8 checked and passed through, a character cut at the end held for the next chunk;
    decoded and encoded again only when it holds invalid bytes."""

    __slots__ = ("_rest",)

    def __init__(self) -> None:
        self._rest = b""

    def __call__(self, data: bytes, final: bool) -> bytes:
        if self._rest:
            data, self._rest = self._rest + data, b""
        if data.isascii():
            return data
        try:
            used = codecs.utf_8_decode(data, "strict", final)[1]
        except UnicodeDecodeError:
            text, used = codecs.utf_8_decode(data, _HANDLER, final)
            self._rest = data[used:]
            return text.encode()
        if used < len(data):
            self._rest = data[used:]
            return data[:used]
        return data


@functools.cache
def _single_byte_table(encoding: str, codec: str) -> str:
    """Byte → character; U+FFFE marks a byte with no character (it decodes to U+FFFD).

    WHATWG's windows-* decoders give the bytes Microsoft left undefined their C1 control
    characters; Python's cp125x codecs have no character for them."""
    chars = []
    for byte in range(256):
        try:
            char = bytes([byte]).decode(codec)
        except UnicodeDecodeError:
            windows = encoding.startswith("windows-") and 0x80 <= byte <= 0x9F
            char = chr(byte) if windows else "\ufffe"
        chars.append(char)
    return "".join(chars)
