"""`python -m admin …`: the operator's command line (admin/__init__.py). It stays outside
chalicelib/, so no Lambda bundle carries it."""

import sys

from admin import main

sys.exit(main())
