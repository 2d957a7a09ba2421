"""Check-ins are append-only (a correction is a new row); the database enforces it."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION okrs_checkin_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'check-ins are append-only: record a correction instead of editing one'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER okrs_checkin_no_update BEFORE UPDATE ON okrs_checkin
    FOR EACH ROW EXECUTE FUNCTION okrs_checkin_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS okrs_checkin_no_update ON okrs_checkin;
DROP FUNCTION IF EXISTS okrs_checkin_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("okrs", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
