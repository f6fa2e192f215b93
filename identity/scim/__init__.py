"""SCIM 2.0 provisioning (RFC 7643, RFC 7644): the identity provider creates, updates and deactivates
people and keeps the membership of its groups in step.

- ``identity.scim.resources``: the SCIM view of people and groups (the attributes Gatehouse keeps, as
  `scim2-models` resources), the discovery documents, and filters turned into queries;
- ``identity.scim.services``: the one write path: every change goes through the registry's audited
  services (``person_deactivate``, ``role_grant``, ``team_member_add``...) with the SCIM source;
- ``identity.api.scim``: the thin views under ``/scim/v2/``, which take only an API token with the
  ``scim`` scope whose user is a governance admin.
"""
