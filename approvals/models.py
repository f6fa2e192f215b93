"""Release gates, sign-off queues and promotion (built on the registry)."""
