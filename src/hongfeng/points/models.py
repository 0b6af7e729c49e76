"""Points (积分, 5.2.10, 5.4.5, 7.2.1–7.2.2): an append-only ledger per member, the rule
versions that produced each entry, the cached totals a page reads without scanning the ledger,
and the level history."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from hongfeng.points.rules import level_label


class Source(models.TextChoices):
    ACTIVITY = "activity", "活动"
    TRAINING = "training", "培训"
    AWARD = "award", "奖励"
    PENALTY = "penalty", "扣分"
    REDEMPTION = "redemption", "兑换"
    CORRECTION = "correction", "更正"


class PointsRule(models.Model):
    """One version of an association's rule. A new version applies to awards made from its
    effective time on; entries keep the version they were made with (history is never
    rewritten)."""

    association = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="points_rules"
    )
    version = models.PositiveIntegerField()
    per_hour = models.DecimalField("每小时积分", max_digits=6, decimal_places=2)
    difficulty = models.JSONField("难度系数")
    quality = models.JSONField("质量系数")
    effective_from = models.DateTimeField("生效时间", db_index=True)
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["association", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["association", "version"], name="points_rule_version_once"
            ),
            models.CheckConstraint(
                condition=Q(per_hour__gte=0), name="points_rule_per_hour_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.association_id} v{self.version}"


class PointsEntry(models.Model):
    """One ledger line (append-only). `amount` moves the spendable balance; `earned` moves the
    cumulative total that sets the level (7.2.2: penalties lower it, redemption does not)."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="points_entries"
    )
    team = models.ForeignKey(
        "orgs.Unit",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The team the points were earned for (the annual team rating, 7.2.3).",
    )
    activity = models.ForeignKey(
        "activities.Activity",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_entries",
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    earned = models.DecimalField(max_digits=10, decimal_places=2)
    rule = models.ForeignKey(PointsRule, null=True, blank=True, on_delete=models.PROTECT)
    rule_label = models.CharField("规则", max_length=80)
    inputs = models.JSONField(default=dict)
    explanation = models.CharField("说明", max_length=300)
    # Makes an award idempotent: one entry per key, ever.
    key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["member", "-created_at"], name="points_member_recent"),
            models.Index(fields=["team", "created_at"], name="points_team_time"),
            models.Index(fields=["activity", "member"], name="points_activity_member"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.get_source_display()} #{self.member_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("the points ledger is append-only; add a correction entry")
        super().save(*args, **kwargs)


class MemberPoints(models.Model):
    """The member's totals, kept in the same transaction as every entry (a read never scans
    the ledger). Rebuildable from the ledger (`rebuild_totals`)."""

    member = models.OneToOneField(
        "members.Member", primary_key=True, on_delete=models.CASCADE, related_name="points"
    )
    earned = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    level = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="points_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(level__gte=0) & Q(level__lte=7), name="points_level_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.earned}"

    @property
    def level_label(self) -> str:
        return level_label(self.level)


class LevelChange(models.Model):
    """Level history (7.2.2): every change with the entry that caused it."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="level_changes"
    )
    from_level = models.PositiveSmallIntegerField()
    to_level = models.PositiveSmallIntegerField()
    entry = models.ForeignKey(PointsEntry, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.from_level} → {self.to_level}"


class RatingRun(models.Model):
    """One run of the annual team star rating (7.2.3) for the teams of one association: its
    inputs (every team's points for the year and the two before) are stored, so the run can be
    re-checked against the ledger at any time."""

    association = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="rating_runs"
    )
    year = models.PositiveSmallIntegerField()
    inputs = models.JSONField(default=dict)
    published = models.BooleanField("已公布", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-year", "-created_at", "-id"]
        indexes = [models.Index(fields=["association", "year"], name="rating_runs_assoc_year")]

    def __str__(self) -> str:
        return f"{self.association_id} {self.year}"


class TeamRating(models.Model):
    """One team's result in a run: yearly points, rank, tier, stars after promotion."""

    run = models.ForeignKey(RatingRun, on_delete=models.CASCADE, related_name="results")
    team = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField(max_digits=12, decimal_places=2)
    rank = models.PositiveIntegerField()
    base_stars = models.PositiveSmallIntegerField()
    stars = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["rank", "team_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "team"], name="team_rating_once_per_run"),
            models.CheckConstraint(condition=Q(stars__lte=5), name="team_rating_stars_range"),
        ]

    def __str__(self) -> str:
        return f"{self.team_id}: {self.stars}★"

    @property
    def star_text(self) -> str:
        return "★" * self.stars
