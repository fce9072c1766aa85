"""Structural checks over the whole project, run with every test run."""

import ast
from pathlib import Path

from ledger.vocabulary import actions_all

TESTS = Path(__file__).resolve().parent
# A test module that names one of these reads ledger rows back.
LEDGER_READERS = ("PendingEntry", "Entry.objects", "ledger_rows(", "entries(", "entry_list_for_subject")
ADMIN = ".admin."


def _asserted_action_names() -> set[str]:
    """Return every string constant of the test modules that read the ledger back."""
    names = set()
    for path in TESTS.rglob("*.py"):
        source = path.read_text()
        if not any(reader in source for reader in LEDGER_READERS):
            continue
        names.update(
            node.value
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        )
    return names


def test_every_declared_read_is_asserted_by_a_test_that_reads_the_ledger():
    """Each action that shows resident data is named in a test module that reads ledger rows back.

    The five looks of a resident-data admin (cards.admin_base.admin_actions) run
    one shared code path: each look must be asserted for some admin, and each
    admin for some look.
    """
    asserted = _asserted_action_names()
    reads = [action.code for action in actions_all() if action.reads]

    plain = [code for code in reads if ADMIN not in code and code not in asserted]
    admin = [code for code in reads if ADMIN in code]
    prefixes = {code.split(ADMIN)[0] for code in admin}
    looks = {code.split(ADMIN)[1] for code in admin}
    unasserted_prefixes = sorted(p for p in prefixes if not any(c.startswith(p + ADMIN) for c in asserted))
    unasserted_looks = sorted(look for look in looks if not any(c.endswith(ADMIN + look) for c in asserted))

    assert plain == [], "declared reads no test asserts in the ledger"
    assert unasserted_prefixes == [], "resident-data admins with no look asserted in the ledger"
    assert unasserted_looks == [], "admin looks asserted for no admin"


def test_every_declared_action_is_described_in_english_and_chinese():
    from django.utils import translation

    for action in actions_all():
        with translation.override("en"):
            english = str(action.description)
        with translation.override("zh-hans"):
            chinese = str(action.description)
        assert english and chinese != english, action.code


def _import_cycles() -> list[list[str]]:
    """Return every cycle (strongly connected set of two or more modules) in the project's import graph."""
    import grimp

    graph = grimp.build_graph("portal", "services", "cards", "ledger")
    imports = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    order, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        on_stack.add(module)
        for imported in imports[module]:
            if imported not in order:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], order[imported])
        if low[module] == order[module]:
            members = []
            while not members or members[-1] != module:
                members.append(stack.pop())
                on_stack.discard(members[-1])
            if len(members) > 1:
                cycles.append(sorted(members))

    for module in sorted(imports):
        if module not in order:
            visit(module)
    return cycles


def test_no_module_import_cycles_but_an_action_queueing_its_own_task():
    """An action queues its task on commit and the task calls the action (HackSoft); nothing else loops."""
    for cycle in _import_cycles():
        # An app's actions may be a package split by sub-domain (services/grants/actions/).
        modules = {module.split(".actions.")[0] + ".actions" if ".actions." in module else module for module in cycle}
        apps = {module.rsplit(".", 1)[0] for module in modules}
        kinds = {module.rsplit(".", 1)[1] for module in modules}
        assert len(apps) == 1 and kinds == {"actions", "tasks"}, cycle
