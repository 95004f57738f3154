"""`python -m khadamat` is the same as the `khadamat` command."""

import sys

from khadamat.cli import main

sys.exit(main())
