"""What every file format module provides, and the shared reading helpers.

A format module ``hqopt/io/<name>.py`` defines one module-level ``FORMAT``,
a :class:`FileFormat`. Readers take the file's text (already un-gzipped) and
return a :class:`~hqopt.Model`; they raise :class:`~hqopt.errors.FormatError`
naming the file and line for anything malformed.

Example:
    >>> stream = TokenStream("3 4\\n1 2 -5\\n", "demo.txt")
    >>> stream.int(), stream.int(), stream.line
    (3, 4, 1)
    >>> stream.ints(3)
    [1, 2, -5]
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hqopt.errors import FormatError, HqoptError
from hqopt.io import limits
from hqopt.model import Model


@dataclass(frozen=True)
class ReadOptions:
    """Options a reader may honour.

    ``instance`` picks one of several problems in a file; ``params`` are the
    ``FILE#name=value`` parameters the format declares (e.g. ``capacity`` for
    OR-Library's capa/capb/capc), as text.
    """

    instance: int | None = None
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FileFormat:
    """A problem-file format.

    Attributes:
        name: the ``--format`` name, e.g. ``"qaplib"``.
        extensions: file name endings, e.g. ``(".dat",)`` (matched after ``.gz``).
        description: one line for ``hqopt info`` and the docs.
        read: ``read(text, source, options) -> Model``.
        write: ``write(model, path)`` or ``None`` if the format is read-only.
        sniff: ``sniff(head) -> bool`` on the first few KB of text, used when
            the extension is ambiguous or missing.
        params: names of the ``FILE#name=value`` parameters the reader takes.
    """

    name: str
    extensions: tuple[str, ...]
    description: str
    read: Callable[[str, str, ReadOptions], Model]
    write: Callable[[Model, Path], None] | None = None
    sniff: Callable[[str], bool] | None = None
    params: tuple[str, ...] = ()


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of ``path``, gunzipped if gzip-compressed, at most ``max_file_bytes`` of them.

    A gzip bomb is stopped as soon as its output passes the cap; corrupt or
    truncated gzip data is a FormatError.
    """
    p = Path(path)
    cap = limits.cap("bytes")
    try:
        with open(p, "rb") as fh:
            raw = fh.read(cap + 1)
    except FileNotFoundError:
        raise FormatError(p, None, "no such file") from None
    except IsADirectoryError:
        raise FormatError(p, None, "is a directory, not a problem file") from None
    except OSError as exc:
        raise FormatError(p, None, f"cannot read: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        raw = _gunzip(raw, p, cap)
    limits.check("bytes", len(raw), p)
    return raw


def _gunzip(data: bytes, path: Path, cap: int) -> bytes:
    """Decompress every gzip member of ``data``, stopping once the output passes ``cap`` bytes."""
    out = bytearray()
    while data:
        engine = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += engine.decompress(data, cap + 1 - len(out))
        except zlib.error as exc:
            raise FormatError(path, None, f"corrupt gzip data: {exc}") from None
        if len(out) > cap:
            return bytes(out)  # the caller reports the size
        if not engine.eof:
            raise FormatError(path, None, "corrupt gzip data: the file is truncated")
        data = engine.unused_data.lstrip(b"\0")
    return bytes(out)


def read_text(path: str | os.PathLike[str]) -> str:
    """The text of ``path``, gunzipped if it is gzip-compressed; FormatError otherwise."""
    return decode_text(read_bytes(path), path)


def decode_text(raw: bytes, path: str | os.PathLike[str]) -> str:
    r"""``raw`` as UTF-8 text, without the byte-order mark some editors put first; FormatError with
    the line for invalid UTF-8 or a NUL byte (which no text format has, and which hangs some parsers).

    >>> decode_text(b"\xef\xbb\xbf1\n3 2\n", "b.bqp")
    '1\n3 2\n'
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FormatError(path, line, "not a text file (invalid UTF-8)") from None
    nul = text.find("\0")
    if nul >= 0:
        raise FormatError(path, text.count("\n", 0, nul) + 1, "not a text file (NUL byte)")
    return text


def shorten(token: str, limit: int = 40) -> str:
    """``repr(token)``, cut to about ``limit`` characters: error lines never echo a huge token.

    >>> shorten("x" * 1000, 12)
    "'xxxxxxxxxxxx...' (1000 characters)"
    """
    if len(token) <= limit:
        return repr(token)
    return f"{token[:limit]!r}... ({len(token)} characters)".replace("'...", "...'", 1)


class DuplicateKey(ValueError):
    """A JSON object names one key twice (raised by :func:`unique_keys`; ``json`` keeps the last silently)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``'s ``object_pairs_hook`` that refuses a key given twice.

    >>> import json
    >>> json.loads('{"a": 1, "b": 2}', object_pairs_hook=unique_keys)
    {'a': 1, 'b': 2}
    """
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key)
        out[key] = value
    return out


def duplicate_key_line(text: str, key: str) -> int | None:
    """The line of the second ``"key":`` in JSON ``text`` (where a duplicate key is), if found."""
    found = list(re.finditer(re.escape(json.dumps(key)) + r"\s*:", text))
    return text.count("\n", 0, found[1].start()) + 1 if len(found) > 1 else None


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename: never half-written.

    The folder must exist (it is never created silently); any failure is a
    one-line :class:`~hqopt.errors.HqoptError` and leaves no temporary file.
    A name ending in ``.gz`` is written gzip-compressed (every reader takes it).
    """
    target = Path(path)
    check_writable(target)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if target.name.lower().endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:64]}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise HqoptError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results should be readable like any file
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise HqoptError(f"cannot write {target}: {exc.strerror or exc}") from None
        raise


def names_a_folder(text: str) -> bool:
    """Whether a path's text names a folder whatever exists (``x/``, ``x/.``); ``Path()`` would drop that ending.

    >>> names_a_folder("out/result.json"), names_a_folder("result.json/"), names_a_folder("result.json/.")
    (False, True, True)
    """
    return text.endswith(("/", os.sep)) or os.path.basename(text) in (".", "..")


def check_writable(path: str | os.PathLike[str]) -> Path:
    """``path`` if a file can be written there now; a one-line HqoptError saying why not.

    Checks what can be known before the work is done: the name is valid, the
    folder exists, a file can be created in it (tried, then removed), and the
    path is not a folder.

    >>> check_writable("/no/such/folder/result.json")
    Traceback (most recent call last):
    ...
    hqopt.errors.HqoptError: cannot write /no/such/folder/result.json: folder /no/such/folder does not exist
    """
    text = os.fspath(path)

    def refuse(reason: str) -> HqoptError:
        return HqoptError(f"cannot write {text if len(text) <= 200 else shorten(text, 200)}: {reason}")

    if not text or "\0" in text:
        raise refuse("not a valid file name")
    target = Path(text)
    parent = target.parent
    try:
        name_max = os.pathconf(parent if parent.is_dir() else ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    if len(os.fsencode(target.name)) > name_max:
        raise refuse(f"the file name is longer than {name_max} bytes")
    try:
        if names_a_folder(text) or target.is_dir():
            raise refuse("is a folder; give a file name")
        if target.exists() and not target.is_file():
            raise refuse("is not a regular file")
        if not parent.exists():
            raise refuse(f"folder {parent} does not exist")
        if not parent.is_dir():
            raise refuse(f"{parent} is not a folder")
        fd, probe = tempfile.mkstemp(prefix=".hqopt-probe.", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise refuse(exc.strerror or str(exc)) from None
    return target


class TokenStream:
    """Whitespace-separated tokens with line numbers, for numeric file formats.

    Tokens are found lazily (a file's text is never copied into a token list),
    and every accessor raises :class:`FormatError` with the file and line on a
    missing or malformed token, so readers never leak a ValueError/IndexError.
    Error lines show at most 40 characters of a token.
    """

    _TOKEN = re.compile(r"\S+")

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self._text = text
        self._matches = self._TOKEN.finditer(text)
        self._scanned = 0  # text before this offset has had its newlines counted
        self._scan_line = 1
        self._line = 1  # line of the last token read
        self._peeked: tuple[int, str] | None = None
        self._last_line = 1

    def _advance(self) -> tuple[int, str] | None:
        match = next(self._matches, None)
        if match is None:
            return None
        self._scan_line += self._text.count("\n", self._scanned, match.start())
        self._scanned = match.start()
        return self._scan_line, match.group()

    def _peek(self) -> tuple[int, str] | None:
        if self._peeked is None:
            self._peeked = self._advance()
        return self._peeked

    @property
    def line(self) -> int:
        """Line of the last token read (or 1 before any read)."""
        return self._line

    def at_end(self) -> bool:
        return self._peek() is None

    def peek(self) -> tuple[int, str] | None:
        """The next token and its line, without reading it (``None`` at the end)."""
        return self._peek()

    def error(self, reason: str, line: int | None = None) -> FormatError:
        return FormatError(self.source, self.line if line is None else line, reason)

    def next(self, what: str = "a value") -> tuple[int, str]:
        token = self._peek()
        if token is None:
            last = self._scan_line + self._text.count("\n", self._scanned, len(self._text.rstrip()))
            raise FormatError(self.source, last, f"unexpected end of file, expected {what}")
        self._peeked = None
        self._line = token[0]
        return token

    def int(self, what: str = "an integer", minimum: int | None = None, maximum: int | None = None) -> int:
        line, tok = self.next(what)
        if len(tok) > 30:  # no count or index in a problem file has 30 digits; int() of 5000 digits fails
            raise FormatError(self.source, line, f"expected {what}, got {shorten(tok)}")
        try:
            value = int(tok)
        except ValueError:
            try:
                as_float = float(tok)
            except ValueError:
                raise FormatError(self.source, line, f"expected {what}, got {shorten(tok)}") from None
            if not as_float.is_integer():
                raise FormatError(self.source, line, f"expected {what}, got {shorten(tok)}") from None
            value = int(as_float)
        if minimum is not None and value < minimum:
            raise FormatError(self.source, line, f"{what} must be >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise FormatError(self.source, line, f"{what} must be <= {maximum}, got {value}")
        return value

    def float(self, what: str = "a number") -> float:
        line, tok = self.next(what)
        try:
            value = float(tok)
        except ValueError:
            raise FormatError(self.source, line, f"expected {what}, got {shorten(tok)}") from None
        if not math.isfinite(value) or abs(value) > 1e15:
            raise FormatError(self.source, line, f"{what} out of range: {shorten(tok)}")
        return value

    def ints(self, count: int, what: str = "an integer") -> list[int]:
        return [self.int(what) for _ in range(count)]

    def floats(self, count: int, what: str = "a number") -> list[float]:
        return [self.float(what) for _ in range(count)]

    def expect_end(self) -> None:
        token = self._peek()
        if token is not None:
            raise FormatError(self.source, token[0], f"unexpected extra data {shorten(token[1])}")
