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
import io
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hqopt.errors import FormatError
from hqopt.model import Model

#: files larger than this (after decompression) are refused rather than read into memory
MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class ReadOptions:
    """Options a reader may honour: ``instance`` picks one of several problems in a file."""

    instance: int | None = None


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
    """

    name: str
    extensions: tuple[str, ...]
    description: str
    read: Callable[[str, str, ReadOptions], Model]
    write: Callable[[Model, Path], None] | None = None
    sniff: Callable[[str], bool] | None = None


def read_text(path: str | os.PathLike[str]) -> str:
    """The text of ``path``, gunzipped if it is gzip-compressed; FormatError otherwise."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise FormatError(p, None, "no such file") from None
    except IsADirectoryError:
        raise FormatError(p, None, "is a directory, not a problem file") from None
    except OSError as exc:
        raise FormatError(p, None, f"cannot read: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
                raw = fh.read(MAX_FILE_BYTES + 1)
        except (OSError, EOFError) as exc:
            raise FormatError(p, None, f"corrupt gzip data: {exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise FormatError(p, None, f"larger than {MAX_FILE_BYTES // 2**20} MiB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FormatError(p, line, "not a text file (invalid UTF-8)") from None


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename: never half-written."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results should be readable like any file
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class TokenStream:
    """Whitespace-separated tokens with line numbers, for numeric file formats.

    Every accessor raises :class:`FormatError` with the file and line on a
    missing or malformed token, so readers never leak a ValueError/IndexError.
    """

    def __init__(self, text: str, source: str, comment: str | None = None) -> None:
        self.source = source
        self._tokens: list[tuple[int, str]] = []
        for number, raw_line in enumerate(text.splitlines(), start=1):
            if comment is not None:
                raw_line = raw_line.split(comment, 1)[0]
            self._tokens.extend((number, tok) for tok in raw_line.split())
        self._pos = 0

    @property
    def line(self) -> int:
        """Line of the last token read (or of the next one before any read)."""
        if not self._tokens:
            return 1
        index = max(0, min(self._pos - 1, len(self._tokens) - 1))
        return self._tokens[index][0]

    def at_end(self) -> bool:
        return self._pos >= len(self._tokens)

    def remaining(self) -> int:
        return len(self._tokens) - self._pos

    def error(self, reason: str, line: int | None = None) -> FormatError:
        return FormatError(self.source, self.line if line is None else line, reason)

    def next(self, what: str = "a value") -> tuple[int, str]:
        if self._pos >= len(self._tokens):
            last = self._tokens[-1][0] if self._tokens else 1
            raise FormatError(self.source, last, f"unexpected end of file, expected {what}")
        token = self._tokens[self._pos]
        self._pos += 1
        return token

    def int(self, what: str = "an integer", minimum: int | None = None, maximum: int | None = None) -> int:
        line, tok = self.next(what)
        try:
            value = int(tok)
        except ValueError:
            try:
                as_float = float(tok)
            except ValueError:
                raise FormatError(self.source, line, f"expected {what}, got {tok!r}") from None
            if not as_float.is_integer():
                raise FormatError(self.source, line, f"expected {what}, got {tok!r}") from None
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
            raise FormatError(self.source, line, f"expected {what}, got {tok!r}") from None
        if not math.isfinite(value) or abs(value) > 1e15:
            raise FormatError(self.source, line, f"{what} out of range: {tok!r}")
        return value

    def ints(self, count: int, what: str = "an integer") -> list[int]:
        return [self.int(what) for _ in range(count)]

    def floats(self, count: int, what: str = "a number") -> list[float]:
        return [self.float(what) for _ in range(count)]

    def expect_end(self) -> None:
        if not self.at_end():
            line, tok = self._tokens[self._pos]
            raise FormatError(self.source, line, f"unexpected extra data {tok!r}")
