"""Retention of the audit trail: one narrow way for old events to leave it, and the daily purge's schedule.

PostgreSQL: the append-only trigger of 0017 still refuses every UPDATE and every DELETE, with one exception:
a DELETE made inside ``gatehouse_audit_purge(through_sequence, anchor_hash)``. That function runs as the
tables' owner (SECURITY DEFINER) and deletes the events up to ``through_sequence`` only if that event still
has ``anchor_hash``, is older than 183 days (six months: the floor the law sets, written here so no
setting lowers it) and is not the chain head. It marks its own transaction with a setting the trigger
reads; the trigger also checks that the row is older than 183 days and that the deleting role is the
tables' owner, which the application's role is not: setting the mark by hand opens nothing to it. EXECUTE
on the function is revoked from PUBLIC; grant it to the application's role (docs/audit.md). SQLite
(development): nothing is installed, as in 0017.
"""

from django.db import migrations

from registry.beat import migration_operations

INSTALL = """
CREATE OR REPLACE FUNCTION gatehouse_audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    through text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        through := coalesce(current_setting('gatehouse.audit_purge_through', true), '');
        IF through <> '' THEN
            IF OLD.sequence <= through::bigint AND OLD.at < now() - interval '183 days'
                    AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
                RETURN OLD;
            END IF;
        END IF;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % of audit event #% refused', TG_OP, OLD.sequence
        USING HINT = 'Audit events are never changed or removed; record a new event instead.';
END
$$;

CREATE OR REPLACE FUNCTION gatehouse_audit_purge(through_sequence bigint, anchor_hash text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    anchor_at timestamptz;
    anchor_stored text;
    head_sequence bigint;
    removed bigint;
BEGIN
    SELECT at, hash INTO anchor_at, anchor_stored FROM registry_auditevent WHERE sequence = through_sequence;
    IF NOT FOUND OR anchor_stored <> anchor_hash THEN
        RAISE EXCEPTION 'audit purge refused: event #% is not there with the hash named', through_sequence;
    END IF;
    IF anchor_at >= now() - interval '183 days' THEN
        RAISE EXCEPTION 'audit purge refused: event #% is younger than 183 days', through_sequence;
    END IF;
    SELECT last_sequence INTO head_sequence FROM registry_auditchainhead WHERE id = 1;
    IF head_sequence IS NULL OR through_sequence >= head_sequence THEN
        RAISE EXCEPTION 'audit purge refused: the newest event (the chain head) is never purged';
    END IF;
    PERFORM set_config('gatehouse.audit_purge_through', through_sequence::text, true);
    DELETE FROM registry_auditevent WHERE sequence <= through_sequence;
    GET DIAGNOSTICS removed = ROW_COUNT;
    PERFORM set_config('gatehouse.audit_purge_through', '', true);
    RETURN removed;
END
$$;
REVOKE ALL ON FUNCTION gatehouse_audit_purge(bigint, text) FROM PUBLIC;
"""

# 0017's trigger function, as it was.
REMOVE = """
DROP FUNCTION IF EXISTS gatehouse_audit_purge(bigint, text);
CREATE OR REPLACE FUNCTION gatehouse_audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % of audit event #% refused', TG_OP, OLD.sequence
        USING HINT = 'Audit events are never changed or removed; record a new event instead.';
END
$$;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0023_person_settings"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, remove), migration_operations("Purge the audit trail")]
