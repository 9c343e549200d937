"""`python app.py` starts LoadZone, as the original description promised.

Same as `loadzone run`: after `pip install -r requirements.txt` it serves
http://localhost:5000 (LOADZONE_HOST / LOADZONE_PORT change that)."""

import sys
from pathlib import Path

# The checkout's own sources win over an installed copy.
sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from loadzone.web.server import serve

if __name__ == "__main__":
    serve()
