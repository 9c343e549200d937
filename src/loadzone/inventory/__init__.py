"""The machines: VMs and groups."""
