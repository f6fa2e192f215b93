"""Incidents linked to the version that was live (built on the registry)."""
