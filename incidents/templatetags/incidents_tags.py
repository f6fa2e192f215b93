from django import template

from incidents.choices import SeriousCriterion

register = template.Library()


@register.filter
def serious_label(value: str) -> str:
    """A serious-incident criterion in words, lower case to sit in a sentence."""
    try:
        label = str(SeriousCriterion(value).label)
    except ValueError:
        return value
    return label[:1].lower() + label[1:]
