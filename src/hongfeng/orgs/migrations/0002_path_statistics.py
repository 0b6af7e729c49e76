from django.db import migrations

# PostgreSQL estimates `path LIKE '/1/3/25/475/%'` (a unit and everything under it) from the
# column's histogram. With the default 100 buckets over ~10,000 units one bucket holds ~100
# paths, so a team's 10 units were estimated at ~70 and the planner chose plans for a reach
# seven times larger (a captain's member list walked the whole name index: 0.2 → 28 ms).
# 2,000 buckets estimate a team's subtree within a unit or two; the table is small, so the
# larger sample costs nothing worth measuring on ANALYZE.
STATISTICS = 2000


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE orgs_unit ALTER COLUMN path SET STATISTICS {STATISTICS}"
        )
        schema_editor.execute("ANALYZE orgs_unit")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE orgs_unit ALTER COLUMN path SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
