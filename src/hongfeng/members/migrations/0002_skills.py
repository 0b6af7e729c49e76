from django.db import migrations

from hongfeng.members.catalogue import SKILLS


def create(apps, schema_editor):
    skill = apps.get_model("members", "Skill")
    for code, name in SKILLS:
        skill.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
