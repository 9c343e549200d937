"""Interactive API docs, served from the package (no CDN)."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import render_template

bp = APIBlueprint("docs", __name__, enable_openapi=False)


@bp.get("/api/docs")
def page():
    return render_template("api_docs.html")
