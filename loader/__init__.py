"""The loader: submission workbooks and RDF files into the store (installed as khadamat.loader).

The API other modules call (docs/architecture.md, "Module APIs"): `build_submission` reads,
checks and maps a submission without writing; `load_submission` also writes it, atomically.
"""

from khadamat.loader.errors import InputError, SubmissionError
from khadamat.loader.submission import Submission, build_submission, load_submission

__all__ = ["InputError", "Submission", "SubmissionError", "build_submission", "load_submission"]
