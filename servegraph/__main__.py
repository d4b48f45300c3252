"""``python -m servegraph`` runs the CLI."""

from servegraph.cli import main

raise SystemExit(main())
