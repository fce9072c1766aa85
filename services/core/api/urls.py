from django.urls import path

from services.core.api import cards, ledger, views

urlpatterns = [
    path("agency", views.AgencyView.as_view(), name="api-agency"),
    path("consents", views.ConsentListView.as_view(), name="api-consents"),
    path("residents/verify", views.ResidentVerifyView.as_view(), name="api-residents-verify"),
    path("cards/verify", cards.CardVerifyView.as_view(), name="api-cards-verify"),
    path(
        "cards/presentations/verify",
        cards.CardPresentationVerifyView.as_view(),
        name="api-cards-presentations-verify",
    ),
    path("cards/mdoc/verify", cards.CardMdocVerifyView.as_view(), name="api-cards-mdoc-verify"),
    path("ledger/entries/<int:index>", ledger.LedgerEntryView.as_view(), name="api-ledger-entry"),
    path("ledger/proof/inclusion", ledger.InclusionProofView.as_view(), name="api-ledger-inclusion"),
]
