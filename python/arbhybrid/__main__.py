"""``python -m arbhybrid``."""

import sys

if __name__ == "__main__":
    try:
        from arbhybrid.cli import main
    except KeyboardInterrupt:  # Ctrl-C while importing: stop quietly
        sys.exit(130)
    sys.exit(main())
