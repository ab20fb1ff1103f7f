"""`python -m checks.cli`: the `backprop-check` command, for an environment without its script."""

from checks.cli import main

raise SystemExit(main())
