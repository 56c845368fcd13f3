"""`python -m policykg.cli`: the command line."""

import sys

from policykg.cli import main

if __name__ == "__main__":  # a query worker spawned from the command imports this module again, and must not run it
    sys.exit(main())
