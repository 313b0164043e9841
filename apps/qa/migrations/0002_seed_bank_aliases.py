"""Seed the alias table with the common short names of the large banks (admins edit it)."""

from django.db import migrations

# Frozen here, so this migration means the same thing whatever the code later holds.
SEED = {
    "工行": "中国工商银行",
    "工商银行": "中国工商银行",
    "工商": "中国工商银行",
    "农行": "中国农业银行",
    "农业银行": "中国农业银行",
    "中国农行": "中国农业银行",
    "中行": "中国银行",
    "建行": "中国建设银行",
    "建设银行": "中国建设银行",
    "中国建行": "中国建设银行",
    "交行": "交通银行",
    "中国交通银行": "交通银行",
    "招行": "招商银行",
    "招商": "招商银行",
    "邮储": "中国邮政储蓄银行",
    "邮储银行": "中国邮政储蓄银行",
    "邮政储蓄银行": "中国邮政储蓄银行",
    "中国邮政": "中国邮政储蓄银行",
    "邮政银行": "中国邮政储蓄银行",
    "邮政": "中国邮政储蓄银行",
    "中信": "中信银行",
    "浦发": "上海浦东发展银行",
    "浦发银行": "上海浦东发展银行",
    "浦东发展银行": "上海浦东发展银行",
    "民生": "中国民生银行",
    "民生银行": "中国民生银行",
    "光大": "中国光大银行",
    "光大银行": "中国光大银行",
    "兴业": "兴业银行",
    "华夏": "华夏银行",
    "广发": "广发银行",
    "广东发展银行": "广发银行",
    "平安": "平安银行",
    "ICBC": "中国工商银行",
    "ABC": "中国农业银行",
    "BOC": "中国银行",
    "CCB": "中国建设银行",
    "BOCOM": "交通银行",
    "CMB": "招商银行",
    "PSBC": "中国邮政储蓄银行",
    "CITIC": "中信银行",
    "SPDB": "上海浦东发展银行",
    "CMBC": "中国民生银行",
    "CEB": "中国光大银行",
    "CIB": "兴业银行",
}


def seed(apps, schema_editor):
    BankAlias = apps.get_model("qa", "BankAlias")
    for alias, full in SEED.items():
        BankAlias.objects.get_or_create(alias=alias, defaults={"full_name": full})


class Migration(migrations.Migration):
    dependencies = [("qa", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
