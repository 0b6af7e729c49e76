"""Reference data shared by the migrations, the demo and the services (no imports: the
migrations read it too)."""

# The professional skills volunteer police teams record (5.2.6); more can be added later.
SKILLS = [
    ("first_aid", "急救"),
    ("water_rescue", "水上救援"),
    ("mediation", "矛盾调解"),
    ("law", "法律咨询"),
    ("counselling", "心理疏导"),
    ("firefighting", "消防"),
    ("medical", "医疗护理"),
    ("driving", "驾驶"),
    ("electrician", "电工"),
    ("drone", "无人机"),
    ("anti_fraud", "反诈宣传"),
    ("photography", "摄影宣传"),
    ("sign_language", "手语"),
    ("foreign_language", "外语"),
]

# The version of the 个人信息处理告知书 (apply/privacy page) that consents record.
PRIVACY_NOTICE_VERSION = "2026-11"
