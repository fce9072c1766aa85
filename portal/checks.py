from django.conf import settings
from django.core import checks

MIDDLEWARE = "portal.middleware.AccessContextMiddleware"
AFTER = "django.contrib.auth.middleware.AuthenticationMiddleware"


def middleware_check(app_configs, **kwargs):
    """Refuse to start unless the access context middleware runs after authentication."""
    middleware = list(settings.MIDDLEWARE)
    if MIDDLEWARE in middleware and AFTER in middleware and middleware.index(MIDDLEWARE) > middleware.index(AFTER):
        return []
    return [
        checks.Error(
            f"'{MIDDLEWARE}' must be in MIDDLEWARE, after '{AFTER}'.",
            hint="Without it, web and admin requests have no access context and cannot record accesses.",
            id="portal.E001",
        )
    ]


def witness_policy_check(app_configs, **kwargs):
    """Refuse a malformed witness policy; in a deployment, warn when checkpoints would go out unwitnessed."""
    from ledger.policy import PolicyError, policy_parse

    text = getattr(settings, "ONECARD_LEDGER_WITNESS_POLICY", "")
    if not text:
        return []
    try:
        policy = policy_parse(text)
    except PolicyError as error:
        return [checks.Error(f"ONECARD_LEDGER_WITNESS_POLICY_FILE: {error}", id="ledger.E002")]
    missing = [witness.name for witness in policy.witnesses.values() if not witness.url]
    if missing:
        return [
            checks.Error(
                f"witness {', '.join(missing)} in the policy has no URL to send checkpoints to",
                hint="witness <name> <vkey> <submission prefix URL>",
                id="ledger.E003",
            )
        ]
    return []


def witness_quorum_check(app_configs, **kwargs):
    """Warn a deployment whose policy publishes checkpoints that no witness cosigned."""
    from ledger.policy import PolicyError, policy_parse

    text = getattr(settings, "ONECARD_LEDGER_WITNESS_POLICY", "")
    if not text:
        # The embedded default: its in-process witness is the quorum (production requires a policy file).
        return []
    try:
        if policy_parse(text).needs_witnesses:
            return []
    except PolicyError:
        return []
    return [
        checks.Warning(
            "the witness policy has no quorum: checkpoints are published without any witness's cosignature",
            hint="List the witnesses of other organisations and a quorum (docs/ledger.md).",
            id="ledger.W001",
        )
    ]
