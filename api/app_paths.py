"""Where the API's own data live (templates, static files, .rq), installed or in a checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE_DIR = Path(str(resources.files("khadamat.api")))
