from django.apps import AppConfig


class RedemptionConfig(AppConfig):
    name = "hongfeng.redemption"
    verbose_name = "积分兑换"
