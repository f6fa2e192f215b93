"""Every write of the registry. UI, API, tasks and commands call these and nothing else."""

from .audit import audit_person, audit_record, audit_record_many, audit_verify
from .audit_runs import verification_start
from .catalog import catalog_model_create, dataset_create, policy_pack_create, prompt_version_create, vendor_create
from .deployments import (
    default_rollback_target,
    deployment_promote,
    deployment_rollback,
    deployment_withdraw,
    pointers_with_rollback,
    rollback_candidates,
    rollback_choices,
)
from .features import (
    feature_change_approve,
    feature_change_reject,
    feature_create,
    feature_update,
    feature_update_needs_governance,
)
from .grants import reviewer_grant_create, reviewer_grant_revoke, reviewer_grants_expire
from .notifications import notification_mark_read, notify
from .people import (
    person_deactivate,
    person_reactivate,
    session_end,
    sessions_end_all,
    sessions_live,
    time_zone_of,
    time_zone_set,
)
from .reads import read_record, read_record_many
from .system import system_user
from .teams import (
    membership_consequences,
    role_grant,
    role_revoke,
    team_create,
    team_member_add,
    team_member_remove,
    team_update,
)
from .tokens import api_token_create, api_token_revoke, api_tokens_revoke_all
from .versions import (
    configuration_hash,
    evaluation_record,
    version_configuration,
    version_create,
    version_retire,
    version_submit,
    version_update,
)

__all__ = [
    "system_user",
    "api_token_create",
    "api_token_revoke",
    "api_tokens_revoke_all",
    "audit_person",
    "audit_record",
    "audit_record_many",
    "audit_verify",
    "verification_start",
    "catalog_model_create",
    "configuration_hash",
    "dataset_create",
    "default_rollback_target",
    "deployment_promote",
    "deployment_rollback",
    "deployment_withdraw",
    "pointers_with_rollback",
    "evaluation_record",
    "feature_change_approve",
    "feature_change_reject",
    "feature_create",
    "feature_update",
    "feature_update_needs_governance",
    "notification_mark_read",
    "notify",
    "read_record",
    "read_record_many",
    "policy_pack_create",
    "prompt_version_create",
    "reviewer_grant_create",
    "reviewer_grant_revoke",
    "reviewer_grants_expire",
    "membership_consequences",
    "person_deactivate",
    "person_reactivate",
    "role_grant",
    "role_revoke",
    "session_end",
    "sessions_end_all",
    "sessions_live",
    "time_zone_of",
    "time_zone_set",
    "rollback_candidates",
    "rollback_choices",
    "team_create",
    "team_member_add",
    "team_member_remove",
    "team_update",
    "vendor_create",
    "version_configuration",
    "version_create",
    "version_retire",
    "version_submit",
    "version_update",
]
