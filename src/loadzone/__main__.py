"""`python -m loadzone …` is the `loadzone` command."""

from loadzone.web.cli import main

main()
