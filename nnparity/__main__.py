"""``python -m nnparity report|gate|bench|list`` (see nnparity/cli.py)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
