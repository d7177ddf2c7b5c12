"""The Dutch catalogue is whole: every message has a translation that is in use (not fuzzy), and the compiled
catalogue that Django reads (.mo) holds exactly what the source (.po) says. A page in Dutch otherwise shows
English wherever a translation is missing or was not compiled."""

from pathlib import Path

import polib
from django.conf import settings

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "nl" / "LC_MESSAGES"


def _messages(entries) -> dict:
    return {
        (entry.msgctxt, entry.msgid): entry.msgstr or tuple(sorted(entry.msgstr_plural.items()))
        for entry in entries
        if entry.msgid
    }


def test_every_message_has_a_dutch_translation_in_use():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    missing = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert (missing, fuzzy) == ([], []), "translate these in django.po (fuzzy entries are not used)"


def test_the_compiled_catalogue_is_current():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    mo = polib.mofile(str(CATALOGUE / "django.mo"))
    assert _messages(mo) == _messages(po.translated_entries()), "run manage.py compilemessages -l nl -i .venv"
