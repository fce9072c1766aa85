from django.urls import path

from services.matching.api import views

urlpatterns = [
    path("matching/sessions", views.SessionStartView.as_view(), name="api-matching-sessions"),
    path(
        "matching/sessions/<uuid:session_id>/chunks/<int:number>",
        views.ChunkAnswerView.as_view(),
        name="api-matching-chunk",
    ),
    path("matching/sessions/<uuid:session_id>/answer", views.AnswerView.as_view(), name="api-matching-answer"),
]
