"""dimod's own serialized models (``CQM.to_file`` / ``BQM.to_file``), read and written.

Read with :func:`dimod.serialization.fileview.load` (BQM, QM or CQM files,
recognised by their ``DIMOD...`` magic bytes, also gzipped). These files do
not record an optimisation sense: they are read as **minimisation**, and a
``max`` model is written as its minimisation form (objective negated; same
optimal solutions). ``hqopt convert`` says so when it happens.

:func:`hqopt.io.load` hands binary files to :func:`read` as latin-1 text
(a lossless byte-for-character mapping), so this format fits the common
``read(text, source, options)`` contract.

Example:
    >>> import dimod
    >>> cqm = dimod.CQM.from_bqm(dimod.BQM({"a": -1.0}, {}, 0.0, "BINARY"))
    >>> data = cqm.to_file().read().decode("latin-1")
    >>> FORMAT.read(data, "tiny.cqm", ReadOptions()).evaluate({"a": 1}).objective
    -1.0
"""

from __future__ import annotations

from pathlib import Path

import dimod
from dimod.serialization.fileview import load as dimod_load

from hqopt.errors import FormatError
from hqopt.io.base import FileFormat, ReadOptions, write_atomic
from hqopt.model import Model


def read(text: str, source: str, options: ReadOptions) -> Model:
    """The model in a dimod file (given as latin-1 text of its bytes)."""
    if options.instance not in (None, 1):
        raise FormatError(source, None, f"instance {options.instance} asked for, but a dimod file holds one model")
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        raise FormatError(source, None, "not a dimod file (not binary data)") from None
    try:
        obj = dimod_load(data)
    except Exception as exc:  # dimod raises many types on corrupt data; all mean the same here
        raise FormatError(source, None, f"not a readable dimod file ({type(exc).__name__}: {str(exc)[:200]})") from None
    name = Path(source).name.removesuffix(".gz").rsplit(".", 1)[0]
    if isinstance(obj, dimod.ConstrainedQuadraticModel):
        model = Model(obj, name=name)
    elif isinstance(obj, (dimod.BinaryQuadraticModel, dimod.QuadraticModel)):
        cqm = dimod.ConstrainedQuadraticModel()
        cqm.set_objective(obj)
        model = Model(cqm, name=name)
    else:
        raise FormatError(source, None, f"dimod file holds a {type(obj).__name__}, not a BQM/QM/CQM")
    model.metadata["format"] = "dimod"
    return model


def write(model: Model, path: Path) -> None:
    """``model`` (its minimisation form) as a dimod CQM file, written atomically."""
    with model.minimization_cqm().to_file() as fh:
        data = fh.read()
    write_atomic(path, data)


def sniff(head: str) -> bool:
    """dimod's magic bytes ``DIMODBQM``/``DIMODCQM``/``DIMODQM``."""
    return head.startswith("DIMOD")


FORMAT = FileFormat(
    name="dimod",
    extensions=(".cqm", ".bqm", ".dimod"),
    description="dimod's serialized BQM/QM/CQM file (to_file/from_file; minimise)",
    read=read,
    write=write,
    sniff=sniff,
)
