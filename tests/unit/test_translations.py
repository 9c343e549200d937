"""The Russian catalogue: every message translated, and the compiled file the server reads
matches its source."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import loadzone

MESSAGES = Path(loadzone.__file__).parent / "translations" / "ru" / "LC_MESSAGES"


def test_every_message_is_translated():
    with open(MESSAGES / "messages.po", "rb") as source:
        catalog = read_po(source)
    missing = [(m.context, m.id) for m in catalog if m.id and not m.string]
    assert missing == []


def test_the_compiled_catalogue_is_up_to_date():
    with open(MESSAGES / "messages.po", "rb") as source:
        wanted = {(m.context, str(m.id)): m.string for m in read_po(source) if m.id}
    with open(MESSAGES / "messages.mo", "rb") as compiled:
        found = {(m.context, str(m.id)): m.string for m in read_mo(compiled) if m.id}
    assert found == wanted
