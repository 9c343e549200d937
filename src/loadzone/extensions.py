"""Extensions, created unbound and bound to an app in create_app()."""

from flask_babel import Babel
from flask_mailman import Mail
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
socketio = SocketIO()
babel = Babel()
mail = Mail()
