"""Every string marked for translation has a zh-Hans translation in the committed catalog.

The messages are extracted as `makemessages` extracts them (the same command,
over the same files) into a copy of locale/, merged with the committed
catalog there; any msgid that comes out with no translation, or only a fuzzy
guess, fails the test, named with where it is used. A string that was never
marked at all is caught by tests/test_i18n_pages.py, which reads the pages.
"""

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(settings.BASE_DIR)
CATALOG = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# Folders that hold no interface text: the virtualenv, runtime state, benchmarks and the tests themselves.
IGNORED = [".venv", "venv", "var", "staticfiles", "test-artifacts", "bench", "tests", "node_modules"]


def _gettext_tools() -> None:
    if shutil.which("xgettext") and shutil.which("msgmerge") and shutil.which("msgfmt"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but GNU gettext is missing: .ci/run installs it with apt")
    pytest.skip("GNU gettext (xgettext, msgmerge) is not installed: apt-get install gettext")


def _entries(po_text: str) -> list[dict]:
    """Parse a .po file's entries: msgid, flags, references, and whether every msgstr is filled."""
    entries, current, field = [], None, None

    def close():
        if current is not None and current["msgid"] != "":
            entries.append(current)

    for line in po_text.splitlines() + [""]:
        if not line.strip():
            close()
            current, field = None, None
            continue
        if line.startswith("#~"):
            continue
        if current is None:
            current = {"msgid": None, "flags": set(), "refs": [], "msgstr": {}}
        if line.startswith("#,"):
            current["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#:"):
            current["refs"] += line[2:].split()
        elif line.startswith("#"):
            continue
        elif line.startswith(("msgid ", "msgid_plural ", "msgstr", "msgctxt ")):
            key, _, value = line.partition(" ")
            field = key
            text = _unquote(value)
            if key == "msgid":
                current["msgid"] = text
            elif key.startswith("msgstr"):
                current["msgstr"][key] = text
            elif key == "msgctxt":
                current["msgctxt"] = text
        elif line.startswith('"') and field is not None:
            text = _unquote(line)
            if field == "msgid":
                current["msgid"] += text
            elif field.startswith("msgstr"):
                current["msgstr"][field] += text
    return entries


def _untranslated(entry: dict) -> bool:
    """Return whether ENTRY has an empty translation or only msgmerge's fuzzy guess."""
    return "fuzzy" in entry["flags"] or not all(value.strip() for value in entry["msgstr"].values())


def _unquote(value: str) -> str:
    value = value.strip()
    return value[1:-1] if value.startswith('"') and value.endswith('"') else value


def _extracted_catalog(tmp_path: Path, settings, *, edit=None) -> str:
    """Return the committed catalog (passed through EDIT) merged with the messages extracted from the project now.

    makemessages writes into the locale/ of the folder it runs in, so it runs in a
    copy of the project made of links to its folders, with a real copy of locale/.
    """
    project = tmp_path / "project"
    project.mkdir()
    for item in ROOT.iterdir():
        if item.name != "locale" and item.name not in IGNORED and not item.name.startswith("."):
            (project / item.name).symlink_to(item)
    shutil.copytree(ROOT / "locale", project / "locale")
    catalog = project / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    if edit is not None:
        catalog.write_text(edit(catalog.read_text(encoding="utf-8")), encoding="utf-8")
    settings.LOCALE_PATHS = [project / "locale"]
    cwd = os.getcwd()
    os.chdir(project)
    try:
        call_command(
            "makemessages",
            locale=["zh_Hans"],
            ignore_patterns=IGNORED,
            symlinks=True,
            no_obsolete=True,
            verbosity=0,
            stdout=io.StringIO(),
        )
    finally:
        os.chdir(cwd)
    return catalog.read_text(encoding="utf-8")


def test_the_catalog_compiles_and_the_compiled_catalog_is_current(tmp_path):
    _gettext_tools()
    compiled = tmp_path / "django.mo"
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(compiled), str(CATALOG)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    committed = CATALOG.with_suffix(".mo").read_bytes()
    assert compiled.read_bytes() == committed, (
        "django.mo is not the compiled django.po: run "
        "msgfmt --check -o locale/zh_Hans/LC_MESSAGES/django.mo locale/zh_Hans/LC_MESSAGES/django.po"
    )


def test_every_marked_string_has_a_chinese_translation(tmp_path, settings):
    _gettext_tools()
    entries = _entries(_extracted_catalog(tmp_path, settings))

    assert len(entries) > 500, "makemessages found almost nothing: is it run from the project's root?"
    missing = [
        f"{' '.join(entry['refs'][:2])}: {entry['msgid']!r}" + (" (fuzzy)" if "fuzzy" in entry["flags"] else "")
        for entry in entries
        if _untranslated(entry)
    ]
    assert not missing, (
        f"{len(missing)} strings have no zh-Hans translation (or a fuzzy one) in {CATALOG.relative_to(ROOT)}; "
        "run makemessages and translate them (docs/architecture.md, Translations):\n" + "\n".join(missing)
    )


def test_the_check_notices_a_string_without_translation(tmp_path, settings):
    """A marked string whose translation is missing from the catalog comes out of the extraction untranslated."""
    _gettext_tools()
    translated = 'msgid "full name"\nmsgstr "姓名"\n'
    assert translated in CATALOG.read_text(encoding="utf-8")

    entries = _entries(_extracted_catalog(tmp_path, settings, edit=lambda po: po.replace(translated, "")))

    (entry,) = [entry for entry in entries if entry["msgid"] == "full name"]
    assert _untranslated(entry) and any(ref.startswith("cards/models.py:") for ref in entry["refs"])
