"""Looking back and carrying data: audit history, usage, data.json, backups."""
