import logging

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.db import DataError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from registry.exceptions import Conflict

logger = logging.getLogger("django.request")


def exception_handler(exc, context):
    """Service errors become HTTP answers: invalid input 400, forbidden state 409, missing 404."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail=detail)
    elif isinstance(exc, Conflict):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, ObjectDoesNotExist):
        exc = NotFound()
    elif isinstance(exc, DataError):
        # A value the database cannot hold, e.g. a NUL byte in a slug or filter (PostgreSQL refuses it).
        exc = ValidationError(detail={"detail": ["The input contains a value that cannot be stored or searched, "
                                                 "such as a NUL character."]})
    elif isinstance(exc, (OperationalError, InterfaceError)) or type(exc) is DatabaseError:
        # The database went away mid-request (connection dropped, server restarting): the transaction was
        # rolled back, so say so in the API's own shape, without the driver's message, and log it loudly.
        request = context.get("request")
        logger.error("Database unavailable during %s %s", getattr(request, "method", "?"),
                     getattr(request, "path", "?"), exc_info=exc)
        return Response(
            {"detail": "The database was unavailable; nothing was saved. Try again in a moment."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"},
        )
    return drf_exception_handler(exc, context)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """``handler404``: under ``/api/`` a URL no route matches (``/api/v1/incidents/0.5/``) answers JSON, as
    every other API error does; elsewhere Django's page."""
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def bad_request(request, exception=None):
    """``handler400``: a request Django refuses before any view (a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``,
    too many fields, a disallowed host) answers JSON under ``/api/``, with the reason when it is safe to say."""
    if _is_api(request):
        if isinstance(exception, RequestDataTooBig):
            detail = "The request body is too large."
        elif isinstance(exception, TooManyFieldsSent):
            detail = "The request has too many fields."
        else:
            detail = "Bad request."
        return JsonResponse({"detail": detail}, status=status.HTTP_400_BAD_REQUEST)
    return defaults.bad_request(request, exception)
