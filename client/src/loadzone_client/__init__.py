"""lz: book LoadZone VMs from CI pipelines and scripts."""

__version__ = "0.1.0"
