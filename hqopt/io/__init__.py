"""Problem files: read and write every supported format (one module per format).

``load(path)`` detects the format from the extension and the content (gzip is
transparent); ``FILE#K`` or ``instance=K`` picks the K-th problem (1-based) of
a file holding several (OR-Library ``bqp*``); ``FILE#name=value`` passes a
parameter the format needs (``capa.txt#capacity=8000``; several are joined
with commas: ``FILE#2,name=value``). ``save(model, path)`` picks the writer
from the extension unless ``format`` is given. Every reader checks the sizes
a file declares against :mod:`hqopt.io.limits` before allocating.

Example:
    >>> import tempfile, pathlib
    >>> import hqopt
    >>> from hqopt import io
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.lp"
    >>> model = hqopt.Model.from_qubo({("a", "a"): -1, ("a", "b"): 2})
    >>> io.save(model, path)
    >>> io.load(path).evaluate({"a": 1, "b": 0}).objective
    -1.0
    >>> io.detect_format(path, path.read_text()).name
    'lp'
"""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

from hqopt.errors import FormatError, HqoptError, ModelError
from hqopt.io import limits
from hqopt.io.base import FileFormat, ReadOptions, decode_text, read_bytes
from hqopt.model import Model

#: format modules under hqopt/io, in detection order (first match wins among equals)
FORMAT_MODULES: list[str] = ["spec", "lp", "dimod_file", "orlib_bqp", "qaplib", "orlib_cap", "gset", "biqmac", "coo"]

#: how many characters of a file the sniffers see
SNIFF_CHARS = 8192
#: the first bytes of dimod's own binary files (BQM.to_file / CQM.to_file)
DIMOD_MAGIC = b"DIMOD"


def _module(name: str):  # type: ignore[no-untyped-def]
    try:
        return importlib.import_module(f"hqopt.io.{name}")
    except ImportError as exc:
        raise FormatError(f"hqopt.io.{name}", None, f"format module cannot be imported: {exc}") from None


def formats() -> dict[str, FileFormat]:
    """Every importable format, ``name -> FileFormat``, in detection order."""
    found: dict[str, FileFormat] = {}
    for name in FORMAT_MODULES:
        try:
            fmt = _module(name).FORMAT
        except FormatError:
            continue
        found[fmt.name] = fmt
    return found


def get_format(name: str, flag: str = "--format") -> FileFormat:
    """The format called ``name`` (as in ``--format``); FormatError naming ``flag`` and listing the names otherwise."""
    known = formats()
    if name not in known:
        raise FormatError(flag, None, f"unknown format {name!r}; known formats: {', '.join(known)}")
    return known[name]


_PARAM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=[^,#=]+$")


def split_instance(path: str | os.PathLike[str]) -> tuple[Path, int | None]:
    """``"bqp50.txt#3"`` -> ``(Path("bqp50.txt"), 3)``; a path without ``#K`` -> ``(path, None)``.

    >>> split_instance("bqp50.txt#3")
    (PosixPath('bqp50.txt'), 3)
    """
    file, instance, _ = split_path(path)
    return file, instance


def _is_file(text: str) -> bool:
    """Whether ``text`` names an existing file (a name too long for the system is none)."""
    try:
        return Path(text).exists()
    except OSError:  # ENAMETOOLONG: Path.exists raises it
        return False


def split_path(path: str | os.PathLike[str]) -> tuple[Path, int | None, dict[str, str]]:
    """``FILE#K,name=value,...`` -> ``(FILE, K, {name: value})``; a plain path is left whole.

    A ``#`` tail counts only if the whole path is not an existing file; then
    every comma-separated part must be a number or ``name=value`` (when the
    file before ``#`` exists, anything else is a FormatError naming the selector).

    >>> split_path("capa.txt#capacity=8000")
    (PosixPath('capa.txt'), None, {'capacity': '8000'})
    >>> split_path("bqp50.txt#2")
    (PosixPath('bqp50.txt'), 2, {})
    """
    text = os.fspath(path)
    base, sep, tail = text.rpartition("#")
    parts = tail.split(",")
    if not sep or _is_file(text):
        return Path(text), None, {}
    if not all(p.isdigit() or _PARAM.match(p) for p in parts):
        if Path(base).is_file():  # the file is there: the selector is what is wrong
            raise FormatError(base, None, f"#{tail[:40]} picks nothing: use #K (problem K, from 1) or #name=value")
        return Path(text), None, {}
    numbers = [p for p in parts if p.isdigit()]
    if len(numbers) > 1:
        raise FormatError(base, None, f"#{tail} gives more than one instance number")
    params: dict[str, str] = {}
    for part in parts:
        if "=" in part:
            name, value = part.split("=", 1)
            if name in params:
                raise FormatError(base, None, f"parameter {name!r} is given twice")
            params[name] = value
    instance = None
    if numbers:
        digits = numbers[0].lstrip("0")  # (never int() of thousands of digits: Python refuses those)
        if not digits:
            raise FormatError(base, None, f"instance numbers start at 1, got #{numbers[0][:12]}")
        if len(digits) > 9:
            raise FormatError(base, None, f"instance #{numbers[0][:12]}{'...' if len(numbers[0]) > 12 else ''} is beyond any file's count of problems")
        instance = int(numbers[0])
    return Path(base), instance, params


def _stem_suffix(path: Path) -> str:
    """The file's extension, lower case, ignoring a trailing ``.gz``."""
    name = path.name.lower().removesuffix(".gz")
    return Path(name).suffix


def detect_format(path: str | os.PathLike[str], text: str) -> FileFormat:
    """The format of a file, from its extension and the first few KB of ``text``.

    Among formats claiming the extension, the first whose sniffer accepts the
    head wins; the only format claiming the extension is used even when its
    sniffer declines (its reader then reports exactly what is wrong: a
    ``.rud`` graph with a self-loop is a bad graph, not a QUBO); a file whose
    extension tells nothing is matched by every sniffer.
    """
    return _detect(Path(path), text, ReadOptions())[0]


def _detect(p: Path, text: str, options: ReadOptions) -> tuple[FileFormat, Model | None]:
    """:func:`detect_format`'s answer, with the model when detection had to read the file to tell
    (a shared extension no sniffer takes: read once, with the caller's ``options``)."""
    if text.startswith(DIMOD_MAGIC.decode()):
        return get_format("dimod"), None
    head = text[:SNIFF_CHARS]
    suffix = _stem_suffix(p)
    known = formats()
    claimants = [f for f in known.values() if suffix and suffix in f.extensions]
    for fmt in claimants:
        if fmt.sniff is not None and fmt.sniff(head):
            return (fmt if len(claimants) == 1 else _graph_or_qubo(fmt, p, head, claimants)), None
    if not head.strip():
        raise FormatError(p, 1, "the file is empty")
    if len(claimants) == 1:  # the only format for this extension: its reader says what is wrong
        return claimants[0], None
    for fmt in known.values():
        if fmt not in claimants and fmt.sniff is not None and fmt.sniff(head):
            return _graph_or_qubo(fmt, p, head, claimants), None
    if len(claimants) > 1:  # a shared extension (.txt): the format whose reader takes it, or each one's reason
        return _the_claimant_that_reads(p, text, claimants, options)
    raise FormatError(
        p, None,
        f"cannot tell the file format; name it (--format of hqopt solve, convert and info; format= of hqopt.io.load) "
        f"or give the file its format's extension (formats: {', '.join(known)})",
    )  # fmt: skip


def _looks_like_another(fmt: FileFormat, text: str) -> str:
    """`` (the content looks like gset: pass --format gset)`` when ``fmt``'s sniffer declines ``text``
    and another format's accepts it, else ''."""
    head = text[:SNIFF_CHARS]
    if fmt.sniff is None or fmt.sniff(head):
        return ""
    other = next((f.name for f in formats().values() if f is not fmt and f.sniff is not None and f.sniff(head)), None)
    return f" (the content looks like {other}: pass --format {other})" if other else ""


def _the_claimant_that_reads(path: Path, text: str, claimants: list[FileFormat], options: ReadOptions) -> tuple[FileFormat, Model]:
    """The first format of a shared extension whose reader takes ``text`` (its sniffer was too strict),
    with its model, or a FormatError giving each reader's reason: a bad line of an OR-Library file
    named ``.txt`` is named by the OR-Library reader, not lost in "cannot tell the format"."""
    reasons = []
    for fmt in claimants:
        try:
            return fmt, fmt.read(text, str(path), options)
        except HqoptError as exc:
            where = f"line {exc.line}: " if isinstance(exc, FormatError) and exc.line is not None else ""
            reasons.append(f"as {fmt.name}, {where}{exc.reason if isinstance(exc, FormatError) else exc}")
    raise FormatError(path, None, f"no {_stem_suffix(path)} format reads this file: " + "; ".join(reasons)
                      + " (--format picks one; hqopt.io.load(format=...))")  # fmt: skip


def _graph_or_qubo(fmt: FileFormat, path: Path, head: str, claimants: list[FileFormat]) -> FileFormat:
    """``fmt``, unless it is gset or biqmac and the content fits the other too: ``n m`` then ``i j w``
    lines with ``i <= j`` are a Max-Cut graph (maximise the cut) as much as a Biq Mac QUBO (minimise).
    ``i i`` entries (linear terms) make it a QUBO, but in a file of mostly edges with a graph's
    extension (``.txt``) they are a graph's self-loops, which its reader names (a QUBO is never read
    by a guess); weights mostly +-1 make it a graph; anything else is a FormatError: the sense would
    be a guess."""
    if fmt.name not in ("gset", "biqmac"):
        return fmt
    biqmac = _module("biqmac")
    if not biqmac.sniff(head):
        return fmt  # (a graph with an edge i > j)
    if biqmac.diagonal_entries(head):  # linear terms of a QUBO, or self-loops of a graph named as one (.txt):
        return fmt if fmt.name == "gset" and fmt in claimants else get_format("biqmac")  # its reader names the line
    if _module("gset").mostly_unit_weights(head):  # weights of +-1 and no linear term: a Gset graph
        return get_format("gset")
    raise FormatError(path, None, "a weighted graph (Max-Cut, gset) or a QUBO (biqmac)? the content fits both; pass --format gset or --format biqmac (format= of hqopt.io.load), or name the file .rud (gset) or .sparse (biqmac)")


def _read_source(path: Path) -> str:
    """The file's text; dimod's binary files come back as latin-1 text (lossless)."""
    raw = read_bytes(path)
    if raw.startswith(DIMOD_MAGIC):
        return raw.decode("latin-1")
    return decode_text(raw, path)


def load(
    path: str | os.PathLike[str],
    format: str | None = None,
    instance: int | None = None,
) -> Model:
    """Read a problem file as a :class:`~hqopt.Model`.

    Args:
        path: the file; ``FILE#K`` picks problem K (1-based) of a multi-problem
            file, ``FILE#name=value`` passes a parameter the format takes.
        format: a format name (see :func:`formats`); detected when omitted.
        instance: problem K of the file (the same as ``#K``; giving both, they must agree).

    The model is checked (finite coefficients, sound bounds) and its size is
    within :mod:`hqopt.io.limits`; anything else is a FormatError naming the file.
    """
    file, from_name, params = split_path(path)
    if instance is not None and instance < 1:
        raise FormatError(file, None, f"instance numbers start at 1, got {instance}")
    if instance is not None and from_name is not None and instance != from_name:
        raise FormatError(file, None, f"#{from_name} and instance {instance} pick different problems; give one")
    text = _read_source(file)
    options = ReadOptions(instance=instance if instance is not None else from_name, params=params)
    fmt, model = (get_format(format), None) if format else _detect(file, text, options)
    unknown = sorted(set(params) - set(fmt.params))
    if unknown:
        takes = f"it takes {', '.join(fmt.params)}" if fmt.params else "it takes none"
        raise FormatError(file, None, f"parameter {unknown[0]!r} is not one the {fmt.name} format takes ({takes})")
    try:
        model = fmt.read(text, str(file), options) if model is None else model
    except FormatError as exc:  # a file of another format under this format's extension: say which
        hint = "" if format else _looks_like_another(fmt, text)
        if not hint:
            raise
        raise FormatError(exc.path, exc.line, exc.reason + hint) from None
    limits.check("variables", model.num_variables, file)
    try:
        model.validate()
    except ModelError as exc:
        raise FormatError(file, None, str(exc)) from None
    model.metadata.setdefault("format", fmt.name)
    model.metadata.setdefault("source", str(file))
    return model


def writable_formats() -> list[str]:
    """Names of the formats that can be written."""
    return [name for name, fmt in formats().items() if fmt.write is not None]


def format_for_output(path: str | os.PathLike[str]) -> FileFormat:
    """The writable format whose extension ``path`` has; FormatError if none or several."""
    suffix = _stem_suffix(Path(path))
    matches = [f for f in formats().values() if f.write is not None and suffix in f.extensions]
    if len(matches) == 1:
        return matches[0]
    options = ", ".join(writable_formats())
    if not matches:
        raise FormatError(path, None, f"cannot tell the output format from {suffix or 'no extension'!r}; pass --to (one of: {options})")
    names = ", ".join(f.name for f in matches)
    raise FormatError(path, None, f"extension {suffix!r} fits several formats ({names}); pass --to")


def save(model: Model, path: str | os.PathLike[str], format: str | None = None) -> None:
    """Write ``model`` to ``path`` (atomically) in ``format`` or the one its extension names."""
    fmt = get_format(format) if format else format_for_output(path)
    if fmt.write is None:
        raise FormatError(path, None, f"format {fmt.name!r} is read-only; writable formats: {', '.join(writable_formats())}")
    fmt.write(model, Path(path))


__all__ = [
    "FORMAT_MODULES",
    "FileFormat",
    "ReadOptions",
    "detect_format",
    "format_for_output",
    "formats",
    "get_format",
    "limits",
    "load",
    "save",
    "split_instance",
    "split_path",
    "writable_formats",
]
