"""Holding VMs over time: bookings, reservations, policies and the jobs that keep time."""
