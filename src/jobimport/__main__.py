"""`python -m jobimport` is the CLI."""

import sys

from jobimport.cli import main

sys.exit(main())
