"""Accounts sort by the pinyin of the name (issue 15, 5.7): the column, its index, and the
pinyin of every existing account."""

from django.db import migrations, models

from hongfeng.core.pinyin import pinyin_of


def fill_pinyin(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    batch = []
    for user in User.objects.only("pk", "name").iterator(chunk_size=2000):
        user.name_pinyin = pinyin_of(user.name)[0]
        batch.append(user)
        if len(batch) == 2000:
            User.objects.bulk_update(batch, ["name_pinyin"])
            batch = []
    User.objects.bulk_update(batch, ["name_pinyin"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_activation_codes"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="name_pinyin",
            field=models.CharField(
                blank=True, editable=False, max_length=200, verbose_name="姓名拼音"
            ),
        ),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(fields=["name_pinyin", "id"], name="accounts_user_pinyin"),
        ),
        migrations.RunPython(fill_pinyin, migrations.RunPython.noop, elidable=True),
    ]
