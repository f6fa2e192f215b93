"""The compliance API."""
