"""The e-mails OneCard sends and the API's problem titles have a zh-Hans translation in the catalog.

Neither is on a page, so tests/test_i18n_pages.py never reads them. E-mails:
every call that sends one (send_mail, EmailMessage, …) in OneCard's code must
take its subject and text from gettext (or a variable set from it), not from a
literal or an f-string, and every string marked in a module that sends e-mail,
or in an e-mail template, must translate to Chinese. Problem titles: every
problem type registered (services.core.api.problems.PROBLEMS, the ledger's
included) is marked for translation and translates to Chinese.
"""

import ast
import re
from pathlib import Path

from django.conf import settings
from django.urls import get_resolver
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation.template import templatize

from services.core.api import problems
from tests.test_i18n_catalog import IGNORED

ROOT = Path(settings.BASE_DIR)
SENDERS = {"send_mail", "send_mass_mail", "mail_admins", "mail_managers", "EmailMessage", "EmailMultiAlternatives"}
# Where each sender takes its subject and text: positional index, keyword names.
TEXT_ARGUMENTS = {
    "send_mail": [(0, "subject"), (1, "message"), (None, "html_message")],
    "mail_admins": [(0, "subject"), (1, "message"), (None, "html_message")],
    "mail_managers": [(0, "subject"), (1, "message"), (None, "html_message")],
    "EmailMessage": [(0, "subject"), (1, "body")],
    "EmailMultiAlternatives": [(0, "subject"), (1, "body")],
    "send_mass_mail": [],
}
GETTEXT = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _sources() -> list[Path]:
    return [
        path
        for path in sorted(ROOT.rglob("*.py"))
        if not any(part in IGNORED or part.startswith(".") for part in path.relative_to(ROOT).parts)
    ]


def _name(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)


def _literal(node: ast.AST) -> bool:
    """Return whether NODE is text written in the code: a string, an f-string, or strings joined or formatted."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _literal(node.left) or (isinstance(node.op, ast.Add) and _literal(node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        return _literal(node.func.value) and node.func.attr == "format"
    return False


def _assigned(function: ast.AST, name: str) -> list[ast.AST]:
    """Return the values FUNCTION assigns to the variable NAME."""
    values = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            values.append(node.value)
    return values


def unmarked_mail_text(source: str, filename: str) -> list[str]:
    """Return where SOURCE sends an e-mail whose subject or text is written in the code, not taken from gettext."""
    tree = ast.parse(source)
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    found = []
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and _name(call) in SENDERS):
            continue
        scope = call
        while scope in parents and not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            scope = parents[scope]
        if isinstance(scope, ast.Lambda):
            scope = parents.get(scope, tree)
            while scope in parents and not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
                scope = parents[scope]
        keywords = {keyword.arg: keyword.value for keyword in call.keywords}
        for index, keyword in TEXT_ARGUMENTS[_name(call)]:
            value = keywords.get(keyword)
            if value is None and index is not None and index < len(call.args):
                value = call.args[index]
            if value is None:
                continue
            values = _assigned(scope, value.id) if isinstance(value, ast.Name) else [value]
            if any(_literal(item) for item in values):
                found.append(
                    f"{filename}:{call.lineno}: the {keyword} of {_name(call)}() is not marked for translation"
                )
    return found


def marked_strings(source: str) -> list[str]:
    """Return the msgids SOURCE marks with gettext and its kin (for plural forms, the singular)."""
    msgids = []
    for call in ast.walk(ast.parse(source)):
        if isinstance(call, ast.Call) and _name(call) in GETTEXT and call.args:
            first = call.args[1] if _name(call).startswith("pgettext") and len(call.args) > 1 else call.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                msgids.append(first.value)
    return msgids


def _mail_modules() -> list[tuple[Path, str]]:
    modules = []
    for path in _sources():
        source = path.read_text(encoding="utf-8")
        if any(sender in source for sender in SENDERS):
            tree = ast.parse(source)
            if any(isinstance(node, ast.Call) and _name(node) in SENDERS for node in ast.walk(tree)):
                modules.append((path, source))
    return modules


def _mail_templates() -> list[Path]:
    folders = [ROOT / "templates", *ROOT.glob("*/templates"), *ROOT.glob("services/*/templates")]
    return sorted(
        path
        for folder in folders
        for path in folder.rglob("*")
        if path.is_file() and re.search(r"(^|[_/])(e-?mail|subject)", str(path.relative_to(folder)))
    )


def template_strings(source: str) -> list[str]:
    """Return the msgids of a template's {% translate %} and {% blocktranslate %} tags, as makemessages reads them."""
    # templatize writes each as gettext(u'…') for xgettext (pgettext with its context first).
    calls = re.findall(r"\bn?p?gettext\((?:u?'[^']*', )?u?('(?:[^'\\]|\\.)*')", templatize(source))
    return [ast.literal_eval(quoted) for quoted in calls]


def untranslated(msgids) -> list[str]:
    """Return the msgids of MSGIDS that the catalog does not translate to Chinese."""
    with translation.override("zh-hans"):
        return [msgid for msgid in dict.fromkeys(msgids) if gettext(msgid) == msgid]


def untranslated_titles(registry) -> list[str]:
    """Return the problem types of REGISTRY whose title is not marked for translation or has no Chinese."""
    missing = []
    for slug, problem in sorted(registry.items()):
        with translation.override("zh-hans"):
            chinese = str(problem.title)
        if not isinstance(problem.title, Promise):
            missing.append(f"{slug}: {problem.title!r} is not marked for translation")
        elif not CJK.search(chinese):
            missing.append(f"{slug}: {chinese!r} has no zh-Hans translation")
    return missing


def test_every_email_takes_its_text_from_translated_strings():
    modules = _mail_modules()
    assert {path.relative_to(ROOT).as_posix() for path, _source in modules} >= {"cards/tasks.py", "ledger/alerts.py"}

    unmarked = [line for path, source in modules for line in unmarked_mail_text(source, path.relative_to(ROOT))]

    assert not unmarked, "\n".join(unmarked)


def test_every_string_of_an_email_has_a_chinese_translation():
    modules, templates = _mail_modules(), _mail_templates()
    assert any(path.name == "password_reset_email.txt" for path in templates)
    msgids = [msgid for _path, source in modules for msgid in marked_strings(source)]
    msgids += [msgid for path in templates for msgid in template_strings(path.read_text(encoding="utf-8"))]

    missing = untranslated(msgids)

    assert len(msgids) > 20
    assert not missing, f"{len(missing)} strings of e-mails have no zh-Hans translation:\n" + "\n".join(missing)


def test_every_problem_title_has_a_chinese_translation():
    get_resolver().url_patterns  # noqa: B018 (imports every view module, which define their problem types)
    assert {"purpose-required", "invalid-parameter", "grant-invalid"} <= set(problems.PROBLEMS)

    missing = untranslated_titles(problems.PROBLEMS)

    assert not missing, f"{len(missing)} problem titles are not translated:\n" + "\n".join(missing)


def test_the_checks_notice_untranslated_mail_and_titles():
    source = (
        "from django.core.mail import send_mail\n"
        "def tell(to, code):\n"
        "    subject = 'Your code'\n"
        "    send_mail(subject, f'Code: {code}', None, [to])\n"
        "    send_mail(_('Your code'), _('Code: %(code)s') % {'code': code}, None, [to])\n"
    )
    registry = {
        "plain": problems._problem("plain", 400, "Written in English only"),
        "uncatalogued": problems._problem("uncatalogued", 400, gettext_lazy("No catalog has this title")),
        "translated": problems.PurposeRequired,
    }

    assert unmarked_mail_text(source, "x.py") == [
        "x.py:4: the subject of send_mail() is not marked for translation",
        "x.py:4: the message of send_mail() is not marked for translation",
    ]
    assert untranslated(["No catalog has this", "full name"]) == ["No catalog has this"]
    assert template_strings(
        '{% load i18n %}{% translate "full name" %}{% blocktranslate %}a {{ b }}{% endblocktranslate %}'
    ) == [
        "full name",
        "a %(b)s",
    ]
    assert [line.split(":")[0] for line in untranslated_titles(registry)] == ["plain", "uncatalogued"]
