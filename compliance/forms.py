"""The compliance pages' forms."""
