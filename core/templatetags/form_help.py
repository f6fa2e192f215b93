"""What a form with errors shows at its top: each field's error, linking to the field."""

from django import template

register = template.Library()


@register.filter
def field_errors(form) -> list[tuple]:
    """``(bound field, error)`` for every error of a visible or hidden field, in the form's order."""
    return [(field, error) for field in form for error in field.errors]
