"""`python -m loadzone_client` is `lz`."""

from loadzone_client.cli import main

raise SystemExit(main())
