"""The demo organisation: ``manage.py seed_demo`` and the data it seeds through every app's services.

Nothing imports this app; it imports the others (it sits above every layer)."""
