"""HTTP routes for face enrolment of saved passengers.

``PUT``/``POST /api/v1/passengers/{id}/face`` with a photo (JPEG or PNG) as the request body
measures the one face in it and stores only its 128-number embedding; the photo is not kept.
``DELETE`` forgets it. Tickets of an enrolled passenger then ask for a 1:1 face check at the
gate. Without the optional face extra on the server, enrolment answers 503
``face_unavailable``.
"""

# No ``from __future__ import annotations``: FastAPI reads the route signatures at runtime.
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Body, Depends, FastAPI, Response

from open12306.accounts.ports import Account
from open12306.accounts.services.accounts import AccountService
from open12306.accounts.services.faces import FaceEnrolment
from open12306.bootstrap import Container
from open12306.http.accounts import current_account_dependency, provider
from open12306.http.body_guard import MIB, route_limit
from open12306.http.errors import errors
from open12306.shared.errors import DomainError

MAX_PHOTO_BODY = 8 * MIB  # a phone camera's full-size JPEG


def face_router(
    enrolment_getter: Callable[[], FaceEnrolment],
    accounts_getter: Callable[[], AccountService],
) -> APIRouter:
    """The routes, bound to the services the getters return."""
    router = APIRouter(prefix="/api/v1", tags=["passengers"])
    Enrolment = Annotated[FaceEnrolment, Depends(provider(enrolment_getter))]
    Caller = Annotated[Account, Depends(current_account_dependency(accounts_getter))]
    photo_body = Body(media_type="image/jpeg", description="the photo: JPEG or PNG bytes")

    @router.post(
        "/passengers/{passenger_id}/face",
        status_code=201,
        openapi_extra=route_limit(MAX_PHOTO_BODY),
        responses=errors(404, 503),
    )
    def enrol_face(
        passenger_id: str,
        account: Caller,
        service: Enrolment,
        photo: Annotated[bytes, photo_body],
    ) -> Response:
        """Enrol the face in the photo for this saved passenger (only the embedding is kept)."""
        service.enrol(account, passenger_id, photo)
        return Response(
            f'{{"passenger":"{passenger_id}","enrolled":true}}',
            status_code=201,
            media_type="application/json",
        )

    @router.delete("/passengers/{passenger_id}/face", status_code=204, responses=errors(404))
    def forget_face(passenger_id: str, account: Caller, service: Enrolment) -> Response:
        """Forget the enrolled face of this saved passenger."""
        if not service.forget(account, passenger_id):
            raise DomainError("face", "not_enrolled", "no face enrolled for this passenger")
        return Response(status_code=204)

    return router


def include_face_routes(app: FastAPI, container: Container) -> FaceEnrolment:
    """Add the face routes on the container's enrolment service; returns that service."""
    app.include_router(face_router(lambda: container.faces, lambda: container.accounts))
    return container.faces
