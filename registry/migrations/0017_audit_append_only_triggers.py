"""PostgreSQL refuses UPDATE and DELETE on the audit trail, and lets the chain head only move forward.

The triggers bind every role, the table's owner included. What they do not stop: the owner (or a
superuser) can disable or drop them, and TRUNCATE is not a row operation (Django's test flush uses it).
So in production the application connects as a role that does NOT own these tables and has only SELECT,
INSERT on registry_auditevent and SELECT, INSERT, UPDATE on registry_auditchainhead (no TRUNCATE); the
migrations run as the owner. The anchor file catches what a superuser could still do. Tests that prove
tampering is detected switch the triggers off for their own session (``SET session_replication_role =
replica``, a superuser-only setting). On SQLite (development) nothing is installed.
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION gatehouse_audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % of audit event #% refused', TG_OP, OLD.sequence
        USING HINT = 'Audit events are never changed or removed; record a new event instead.';
END
$$;
DROP TRIGGER IF EXISTS registry_auditevent_append_only ON registry_auditevent;
CREATE TRIGGER registry_auditevent_append_only BEFORE UPDATE OR DELETE ON registry_auditevent
    FOR EACH ROW EXECUTE FUNCTION gatehouse_audit_event_append_only();

CREATE OR REPLACE FUNCTION gatehouse_audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the audit chain head cannot be deleted';
    END IF;
    IF NEW.id <> OLD.id OR NEW.last_sequence < OLD.last_sequence
            OR (NEW.last_sequence = OLD.last_sequence AND NEW.last_hash <> OLD.last_hash) THEN
        RAISE EXCEPTION 'the audit chain head only moves forward (#% to #% refused)', OLD.last_sequence, NEW.last_sequence;
    END IF;
    RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS registry_auditchainhead_forward_only ON registry_auditchainhead;
CREATE TRIGGER registry_auditchainhead_forward_only BEFORE UPDATE OR DELETE ON registry_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION gatehouse_audit_head_forward_only();
"""

REMOVE = """
DROP TRIGGER IF EXISTS registry_auditevent_append_only ON registry_auditevent;
DROP FUNCTION IF EXISTS gatehouse_audit_event_append_only();
DROP TRIGGER IF EXISTS registry_auditchainhead_forward_only ON registry_auditchainhead;
DROP FUNCTION IF EXISTS gatehouse_audit_head_forward_only();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("registry", "0016_audit_checkpoint_schedule")]

    operations = [migrations.RunPython(install, remove)]
