"""The annual evaluation of executive agencies (circular 29168 art. 12; regulation on developing
the electronic services of executive agencies, art. 18–19): figures per agency, per family and
national, rankings by the weights of `weights.toml`, charts, and writers for JSON, CSV, XLSX and
a standalone HTML page. `khadamat report` and `GET /reports` are thin faces over `evaluate`.
"""

from khadamat.report.figures import Evaluation, ScopeError, evaluate, valid_since

__all__ = ("Evaluation", "ScopeError", "evaluate", "valid_since")
