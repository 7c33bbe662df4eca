"""The frozen app's entry point: `kazoodesk` as the console script runs it."""

import sys

from kazoodesk.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
