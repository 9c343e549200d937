"""`python app.py` starts LoadZone, as the original description promised.

Same as `loadzone run`; works from a checkout once the dependencies are installed
(`pip install -e .` or `make run`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from loadzone.server import serve

if __name__ == "__main__":
    serve()
