import logging

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, IntegrityError, InterfaceError, OperationalError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core import error_codes
from core.exceptions import Conflict, Refused

logger = logging.getLogger("django.request")


CONCURRENT_WRITE = (
    "Another request created or changed the same thing at the same moment, so nothing was saved. "
    "Reload it and try again."
)


def _details(errors) -> list[ErrorDetail]:
    """A Django ``ValidationError``'s messages, each keeping the code it was raised with."""
    return [ErrorDetail(message, code=error.code or "invalid") for error in errors for message in error]


def _from_django(exc: DjangoValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError(detail={field: _details(errors) for field, errors in exc.error_dict.items()})
    return ValidationError(detail={"detail": _details(exc.error_list)})


def _flat_codes(codes):
    if isinstance(codes, dict):
        for value in codes.values():
            yield from _flat_codes(value)
    elif isinstance(codes, (list, tuple)):
        for value in codes:
            yield from _flat_codes(value)
    else:
        yield codes


def _validation_code(exc: ValidationError) -> str:
    """The first listed specific code among the field errors (e.g. ``region_not_allowed``), else ``invalid``."""
    for code in _flat_codes(exc.get_codes()):
        if code in error_codes.CODES and code not in error_codes.BY_STATUS.values():
            return code
    return error_codes.INVALID


def with_code(data, code: str):
    """An error body as an object with its ``code``: a bare list of messages becomes ``{"detail": [...]}``."""
    if not isinstance(data, dict):
        data = {"detail": data}
    return {**data, "code": code}


def exception_handler(exc, context):
    """Service errors become HTTP answers: invalid input 400, refused 403, forbidden state 409, missing 404.

    Every error body carries a machine ``code`` (``core.error_codes``) beside the human ``detail``.
    """
    code = None
    if isinstance(exc, DjangoValidationError):
        exc = _from_django(exc)
    elif isinstance(exc, Conflict):
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, Refused):
        code = exc.code
        exc = drf_exceptions.PermissionDenied(exc.message)
    elif isinstance(exc, ObjectDoesNotExist):
        exc = NotFound()
    elif isinstance(exc, DataError):
        # A value the database cannot hold, e.g. a NUL byte in a slug or filter (PostgreSQL refuses it).
        exc = ValidationError(
            detail={
                "detail": ["The input contains a value that cannot be stored or searched, such as a NUL character."]
            }
        )
    elif isinstance(exc, IntegrityError):
        # A unique value taken by a request that committed first (services turn the races they expect into
        # field errors; this is the net for the rest): nothing was saved, and saying so is the whole answer.
        return Response({"detail": CONCURRENT_WRITE, "code": error_codes.CONFLICT}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, (OperationalError, InterfaceError)) or type(exc) is DatabaseError:
        # The database went away mid-request (connection dropped, server restarting): the transaction was
        # rolled back, so say so in the API's own shape, without the driver's message, and log it loudly.
        request = context.get("request")
        logger.error(
            "Database unavailable during %s %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            exc_info=exc,
        )
        return Response(
            {
                "detail": "The database was unavailable; nothing was saved. Try again in a moment.",
                "code": error_codes.UNAVAILABLE,
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if code is None:
        if isinstance(exc, ValidationError):
            code = _validation_code(exc)
        else:
            code = error_codes.DRF_CODES.get(getattr(getattr(exc, "detail", None), "code", None))
    response.data = with_code(response.data, code or error_codes.for_status(response.status_code))
    return response


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """``handler404``: under ``/api/`` a URL no route matches (``/api/v1/incidents/0.5/``) answers JSON, as
    every other API error does; elsewhere Django's page."""
    if _is_api(request):
        return JsonResponse({"detail": "Not found.", "code": error_codes.NOT_FOUND}, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def bad_request(request, exception=None):
    """``handler400``: a request Django refuses before any view (a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``,
    too many fields, a disallowed host) answers JSON under ``/api/``, with the reason when it is safe to say."""
    if _is_api(request):
        code = error_codes.REQUEST_TOO_LARGE
        if isinstance(exception, RequestDataTooBig):
            detail = "The request body is too large."
        elif isinstance(exception, TooManyFieldsSent):
            detail = "The request has too many fields."
        else:
            detail, code = "Bad request.", error_codes.INVALID
        return JsonResponse({"detail": detail, "code": code}, status=status.HTTP_400_BAD_REQUEST)
    return defaults.bad_request(request, exception)
