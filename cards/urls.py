from django.urls import path

from cards import views
from cards.tools.onecard_card_verify import CARD_VCT_PATH

app_name = "cards"

urlpatterns = [
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path(".well-known/jwt-vc-issuer", views.jwt_vc_issuer, name="jwt-vc-issuer"),
    path("cards/status", views.status_list, name="status-list"),
    path("cards/status-list", views.token_status_list, name="token-status-list"),
    path("cards/mdoc/iaca.pem", views.mdoc_iaca, name="mdoc-iaca"),
    path(CARD_VCT_PATH.lstrip("/"), views.card_type_metadata_document, name="card-type-metadata"),
]
