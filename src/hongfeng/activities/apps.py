from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "hongfeng.activities"
    verbose_name = "活动与签到"

    def ready(self):
        from hongfeng.activities import selectors
        from hongfeng.notices import answers

        # the inbox shows where a broadcast's answer stands instead of offering 报名 again
        answers.register("activity_broadcast", selectors.broadcast_answers)
