"""Turn a Model into what a backend accepts, and samples back into the Model's terms.

* CQM backends (cpsat, exact) get the minimisation CQM, spins made binary,
  constraints kept as constraints (:func:`compile_cqm`).
* BQM backends get a :class:`~hqopt.compile.penalty.PenaltyModel`: integers
  encoded in bits, constraints as weighted penalties (:func:`compile_bqm`).

Example:
    >>> from hqopt import Model
    >>> compiled = compile_for(Model.from_qubo({(0, 1): 1}), accepts="bqm")
    >>> compiled.problem().num_variables
    2
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import dimod
import numpy as np

from hqopt.compile.encode import Decoder, IntegerEncoding
from hqopt.compile.penalty import PenaltyModel
from hqopt.model import Model

__all__ = ["Compiled", "compile_for", "PenaltyModel", "IntegerEncoding"]


@dataclass
class Compiled:
    """A compiled problem plus the way back to the original variables."""

    cqm: dimod.ConstrainedQuadraticModel | None
    penalty: PenaltyModel | None
    decoder: Decoder

    def problem(self) -> dimod.BinaryQuadraticModel | dimod.ConstrainedQuadraticModel:
        """The problem to hand to the backend (the BQM at the current weights)."""
        if self.penalty is not None:
            return self.penalty.bqm()
        assert self.cqm is not None
        return self.cqm

    @property
    def weights(self) -> dict[str, float]:
        return dict(self.penalty.weights) if self.penalty is not None else {}

    def decode(self, sampleset: dimod.SampleSet) -> np.ndarray:
        """Original-variable rows (in ``self.decoder.labels`` order)."""
        return self.decoder.decode(sampleset)


def compile_for(
    model: Model,
    *,
    accepts: str,
    encoding: str = "binary",
    weights: float | Mapping[str, float] | None = None,
) -> Compiled:
    """Compile ``model`` for a backend that accepts ``"cqm"`` or ``"bqm"``."""
    if accepts == "cqm":
        cqm = model.minimization_cqm()
        vartypes = {v: model.cqm.vartype(v) for v in model.cqm.variables}
        if any(vt is dimod.SPIN for vt in vartypes.values()):
            cqm.spin_to_binary(inplace=True)
        identity = IntegerEncoding(
            bits={v: [(v, 1.0)] for v, vt in vartypes.items() if vt is dimod.INTEGER},
            lower={v: 0.0 for v, vt in vartypes.items() if vt is dimod.INTEGER},
        )
        return Compiled(cqm, None, Decoder.build(model.cqm.variables, vartypes, identity))
    penalty = PenaltyModel.from_model(model, encoding=encoding, weights=weights)
    return Compiled(None, penalty, penalty.decoder)
