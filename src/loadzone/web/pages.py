"""The web interface: the sign-in page and the single-page app shell, in English or Russian."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale

from loadzone.extensions import babel
from loadzone.identity import auth

LANGUAGES = ("en", "ru")
LANG_COOKIE = "lang"

bp = Blueprint("web", __name__)


def select_locale() -> str:
    """The `lang` cookie when it names a language we have, else the browser's best match."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=LANGUAGES[0])


def _settings():
    return current_app.extensions["loadzone.settings"]


def _boot(email: str) -> dict:
    """What the scripts need to know about the person and the rules, as a JSON data island."""
    settings = _settings()
    actor = auth.actor_for(email)
    return {
        "email": email,
        "is_admin": actor.is_admin,
        "can_manage": actor.can_manage,
        "max_hours": settings.max_hours,
        "reserve_days": getattr(settings, "reserve_days", 30),
        "warning_minutes": settings.warning_minutes,
        "locale": str(get_locale()),
    }


@bp.get("/")
def index():
    """The app shell; everything in it is filled from the API by the scripts."""
    email = auth.session_email()
    if email is None:
        return redirect(url_for("web.login"))
    return render_template("app.html", boot=_boot(email))


@bp.get("/login")
def login():
    """Sign in by e-mail (open mode at once, link mode by a mailed or printed link)."""
    if auth.session_email() is not None:
        return redirect(url_for("web.index"))
    return login_page(link_error=request.args.get("error") == "link")


def login_page(link_error: bool = False, oidc_error: str | None = None) -> str:
    """The sign-in page, with a refused sign-in's reason when there is one."""
    settings = _settings()
    return render_template(
        "login.html",
        boot={"locale": str(get_locale())},
        auth_mode=settings.auth_mode,
        link_error=link_error,
        oidc=bool(settings.oidc_issuer),
        oidc_label=settings.oidc_label,
        oidc_error=oidc_error,
        allowed_domains=", ".join(settings.allowed_domains),
    )


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
