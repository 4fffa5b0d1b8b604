"""``python -m arbhybrid``."""

import sys

from arbhybrid.cli import main

if __name__ == "__main__":
    sys.exit(main())
