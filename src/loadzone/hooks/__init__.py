"""Release and book hooks: durable runs, claimed once, run off the request path."""
