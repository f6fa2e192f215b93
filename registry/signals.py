"""Signals the registry sends so the apps built on it can react without the registry knowing them.

They are sent inside the transaction of the change: a receiver's writes commit or roll back with it.
"""

from django.dispatch import Signal

# Sent after an evaluation is recorded. Arguments: evaluation, actor.
evaluation_recorded = Signal()

# Sent after promotions or a rollback flip live pointers. Arguments: feature, version_ids (the versions
# that went live and those that stopped serving there), actor.
deployment_changed = Signal()

# Sent after a feature's record changes (readiness items such as the rollback path or monitors).
# Arguments: feature, actor.
feature_updated = Signal()
