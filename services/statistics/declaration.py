"""What official statistics declares: its purpose, ledger action, scope and catalogue entry.

Loaded by StatisticsConfig.ready().
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from ledger.api import actions_register, purpose_register
from services.core.catalogue import Scope, Service, service_register
from services.statistics.tables import RELEASE_ACTION


class StatisticsScope(StrEnum):
    PUBLISH = "statistics:publish"


purpose_register(
    "official-statistics",
    name_en="Publishing trend statistics under differential privacy",
    name_zh_hans="在差分隐私保护下发布趋势统计",
    legal_basis=gettext_noop(
        "PIPL art. 13(3): legal duty under the Statistics Law; published only as noisy aggregates"
    ),
)

actions_register(
    "statistics",
    (RELEASE_ACTION, _("Your data was counted, with noise added, in published statistics"), True),
)

service_register(
    Service(
        code="statistics",
        name_en="Official statistics",
        name_zh_hans="官方统计",
        scopes=(
            Scope(
                StatisticsScope.PUBLISH,
                gettext_noop("Publish a trend table of a closed month under differential privacy"),
                purposes=("official-statistics",),
            ),
        ),
        api_urls="services.statistics.api.urls",
    )
)
