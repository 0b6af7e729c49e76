"""The organisation tower of clause 5.1 as one tree model with a materialised path.

Two hierarchies share the model: the associations (5.1.2, 省 → 市 → 县) with their teams, squads
and groups (5.1.3, 总队 → 分队 → 小组), and public security (公安机关 省 → 市 → 县 → 派出所). A team
sits under its county association and is guided by one police station (5.1.1, 属地管理).

`path` is "/<root id>/…/<own id>/", so a subtree is one `path LIKE '/1/4/%'` query and ancestors
are read off the path without touching the database.
"""

from django.db import models
from django.db.models import Q

from hongfeng.core.errors import DomainError


class UnitKind(models.TextChoices):
    PROVINCE_ASSOCIATION = "province_association", "省级协会"
    CITY_ASSOCIATION = "city_association", "市级协会"
    COUNTY_ASSOCIATION = "county_association", "县级协会"
    TEAM = "team", "总队"
    SQUAD = "squad", "分队"
    GROUP = "group", "小组"
    PROVINCE_BUREAU = "province_bureau", "省级公安机关"
    CITY_BUREAU = "city_bureau", "市级公安机关"
    COUNTY_BUREAU = "county_bureau", "县级公安机关"
    STATION = "station", "派出所"


ASSOCIATION_KINDS = frozenset(
    {UnitKind.PROVINCE_ASSOCIATION, UnitKind.CITY_ASSOCIATION, UnitKind.COUNTY_ASSOCIATION}
)
TEAM_KINDS = frozenset({UnitKind.TEAM, UnitKind.SQUAD, UnitKind.GROUP})
BUREAU_KINDS = frozenset({UnitKind.PROVINCE_BUREAU, UnitKind.CITY_BUREAU, UnitKind.COUNTY_BUREAU})
POLICE_KINDS = BUREAU_KINDS | {UnitKind.STATION}

# Which kind may sit under which (None = a root). 5.1.2 and 5.1.3; a special group (党员先锋岗)
# may also sit directly under a team because it cuts across the squads.
ALLOWED_PARENT_KINDS: dict[str, frozenset] = {
    UnitKind.PROVINCE_ASSOCIATION: frozenset({None}),
    UnitKind.CITY_ASSOCIATION: frozenset({UnitKind.PROVINCE_ASSOCIATION}),
    UnitKind.COUNTY_ASSOCIATION: frozenset({UnitKind.CITY_ASSOCIATION}),
    UnitKind.TEAM: frozenset({UnitKind.COUNTY_ASSOCIATION}),
    UnitKind.SQUAD: frozenset({UnitKind.TEAM}),
    UnitKind.GROUP: frozenset({UnitKind.SQUAD}),
    UnitKind.PROVINCE_BUREAU: frozenset({None}),
    UnitKind.CITY_BUREAU: frozenset({UnitKind.PROVINCE_BUREAU}),
    UnitKind.COUNTY_BUREAU: frozenset({UnitKind.CITY_BUREAU}),
    UnitKind.STATION: frozenset({UnitKind.COUNTY_BUREAU}),
}
SPECIAL_GROUP_PARENT_KINDS = frozenset({UnitKind.TEAM, UnitKind.SQUAD})


class SpecialTag(models.TextChoices):
    """Tags of special groups inside a team (5.1.3)."""

    PARTY_VANGUARD = "party_vanguard", "党员先锋岗"
    YOUTH_COMMANDO = "youth_commando", "青年突击队"
    WOMEN_SERVICE = "women_service", "巾帼服务队"
    RESCUE = "rescue", "专业救援队"


class UnitQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def subtree_of(self, unit: "Unit", *, include_self: bool = True):
        """The unit and everything below it, in one query (materialised path)."""
        qs = self.filter(path__startswith=unit.path)
        return qs if include_self else qs.exclude(pk=unit.pk)

    def teams_guided_by(self, police_unit: "Unit"):
        """Teams guided by this station, or by any station under this bureau (5.1.1)."""
        return self.filter(kind=UnitKind.TEAM, guiding_station__path__startswith=police_unit.path)

    def visible_to(self, user, capability: str = "orgs.view"):
        """The access choke point for units (see hongfeng.accounts.access)."""
        from hongfeng.accounts.access import scope_q

        return self.filter(scope_q(user, capability))


class Unit(models.Model):
    """One organisation unit: an association, a bureau, a station, a team, a squad or a group."""

    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=32, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField("路径", max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField("层级", default=0, editable=False)
    team = models.ForeignKey(
        "self",
        verbose_name="所属总队",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="team_units",
        editable=False,
        help_text="For a squad or group: the team it belongs to (kept by the services).",
    )
    guiding_station = models.ForeignKey(
        "self",
        verbose_name="指导派出所",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="guided_teams",
    )
    special_tag = models.CharField(
        "特色小组", max_length=32, choices=SpecialTag.choices, blank=True
    )
    region_code = models.CharField("行政区划代码", max_length=6, blank=True)
    archived_at = models.DateTimeField("归档时间", null=True, blank=True, db_index=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    version = models.PositiveIntegerField("版本", default=1)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = "组织单位"
        verbose_name_plural = "组织单位"
        ordering = ["path"]
        indexes = [
            # LIKE 'prefix%' on PostgreSQL needs the pattern operator class to use an index.
            models.Index(
                fields=["path"], name="orgs_unit_path_like", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["kind", "archived_at"], name="orgs_unit_kind_archived"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=UnitKind.TEAM, guiding_station__isnull=False)
                | (~Q(kind=UnitKind.TEAM) & Q(guiding_station__isnull=True)),
                name="orgs_unit_station_only_and_always_for_teams",
                violation_error_message="总队必须且只有总队可以设置指导派出所。",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[UnitKind.SQUAD, UnitKind.GROUP], team__isnull=False)
                | (~Q(kind__in=[UnitKind.SQUAD, UnitKind.GROUP]) & Q(team__isnull=True)),
                name="orgs_unit_team_link_for_squads_groups",
                violation_error_message="分队和小组必须归属一个总队。",
            ),
            models.CheckConstraint(
                condition=Q(special_tag="") | Q(kind=UnitKind.GROUP),
                name="orgs_unit_special_tag_on_groups",
                violation_error_message="只有小组可以标记为特色小组。",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | Q(depth__gt=0),
                name="orgs_unit_depth_below_root",
            ),
            models.UniqueConstraint(
                fields=["parent", "name"],
                condition=Q(archived_at__isnull=True),
                name="orgs_unit_unique_active_name_per_parent",
                violation_error_message="同一上级单位下已有同名单位。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def is_association(self) -> bool:
        return self.kind in ASSOCIATION_KINDS

    @property
    def is_police(self) -> bool:
        return self.kind in POLICE_KINDS

    @property
    def kind_display(self) -> str:
        if self.special_tag:
            return SpecialTag(self.special_tag).label
        return UnitKind(self.kind).label

    @property
    def team_id_or_self(self) -> int | None:
        """The team this unit is part of: itself for a team, its team for a squad or group."""
        return self.pk if self.kind == UnitKind.TEAM else self.team_id

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to the parent, read off the path (no query)."""
        return [int(part) for part in self.path.strip("/").split("/")[:-1] if part]

    def is_descendant_of(self, other: "Unit") -> bool:
        return self.path.startswith(other.path) and self.pk != other.pk

    def check_parent_kind(self, parent: "Unit | None") -> None:
        """Kind rules of 5.1.2/5.1.3 and the police line; raises a DomainError in Chinese."""
        parent_kind = parent.kind if parent is not None else None
        allowed = ALLOWED_PARENT_KINDS[self.kind]
        if self.kind == UnitKind.GROUP and self.special_tag:
            allowed = SPECIAL_GROUP_PARENT_KINDS
        if parent_kind in allowed:
            return
        kind_label = UnitKind(self.kind).label
        if parent is None:
            raise DomainError(
                f"{kind_label}必须有上级单位。", code="invalid_parent", field="parent"
            )
        names = "、".join(UnitKind(k).label for k in allowed if k is not None) or "无（顶级单位）"
        raise DomainError(
            f"{kind_label}不能设在{UnitKind(parent.kind).label}之下，其上级应为：{names}。",
            code="invalid_parent",
            field="parent",
        )
