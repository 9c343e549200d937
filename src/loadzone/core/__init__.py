"""The small core every feature stands on: transactions, the after-commit bus, facts, time."""
