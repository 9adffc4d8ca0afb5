"""The structure-aware compiled local-search engine behind backend ``ls``.

``detect_structure`` (structure.py) -> ``build_problem`` (problem.py: arrays)
-> compiled moves and searches (kernels.py) -> parallel chains in slices that
report to the Budget (chains.py).
"""

from hqopt.engine.chains import compiling, finish_compile, jit_ready, search, warmup
from hqopt.engine.problem import EngineProblem, build_problem
from hqopt.engine.structure import Structure, detect_structure

__all__ = [
    "EngineProblem", "Structure", "build_problem", "compiling", "detect_structure", "finish_compile", "jit_ready", "search", "warmup",
]
