"""Organisation tree pages (5.1). Thin: fetch through the access helper, call one service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render

from hongfeng.accounts import access
from hongfeng.accounts.models import RoleAssignment
from hongfeng.core.errors import DomainError
from hongfeng.core.forms import add_domain_error, paginate, raise_refusal
from hongfeng.orgs import forms, selectors, services
from hongfeng.orgs.models import ALLOWED_PARENT_KINDS, SPECIAL_GROUP_PARENT_KINDS, Unit, UnitKind


def _show_archived(request) -> bool:
    return request.GET.get("archived") == "1"


@login_required
def tree(request):
    """The organisation tree from the tops of what the user sees; branches open on demand."""
    roots = selectors.tree_roots(request.user, include_archived=_show_archived(request))
    return render(
        request,
        "orgs/tree.html",
        {
            "roots": roots,
            "archived": _show_archived(request),
            "can_create_root": access.has_global(request.user, "orgs.add_child"),
        },
    )


@login_required
def children(request, unit_id):
    """htmx fragment: the children of one branch."""
    unit = access.get_unit_for_user(request.user, unit_id)
    rows = selectors.children_of(request.user, unit, include_archived=_show_archived(request))
    return render(
        request,
        "orgs/_children.html",
        {"children": rows[:500], "parent": unit, "archived": _show_archived(request)},
    )


@login_required
def units(request):
    """A filterable list of units: the records behind every count on the home page."""
    rows = Unit.objects.visible_to(request.user).select_related("parent", "guiding_station")
    within = None
    if request.GET.get("within"):
        within = access.get_unit_for_user(request.user, request.GET["within"])
        if request.GET.get("guided") == "1":
            rows = selectors.guided_teams(request.user, within).select_related(
                "parent", "guiding_station"
            )
        else:
            rows = rows.subtree_of(within, include_self=False)
    kind = request.GET.get("kind")
    if kind in UnitKind.values:
        rows = rows.filter(kind=kind)
    no_captain = request.GET.get("no_captain") == "1"
    if no_captain:  # the home page's "teams without a captain" (5.2.4)
        rows = selectors.without_captain(rows)
    special = request.GET.get("special")
    if special in ("0", "1"):
        rows = rows.exclude(special_tag="") if special == "1" else rows.filter(special_tag="")
    if not _show_archived(request):
        rows = rows.active()
    query = request.GET.get("q", "").strip()[:50]
    if query:
        rows = rows.filter(name__icontains=query)
    return render(
        request,
        "orgs/units.html",
        {
            "page": paginate(request, rows.order_by("path")),
            "within": within,
            "kind": kind,
            "kind_choices": UnitKind.choices,
            "query": query,
            "guided": request.GET.get("guided") == "1",
            "no_captain": no_captain,
            "special": special if special in ("0", "1") else "",
            "archived": _show_archived(request),
        },
    )


@login_required
def unit_detail(request, unit_id):
    unit = access.get_unit_for_user(request.user, unit_id)
    user = request.user
    rows = selectors.children_of(user, unit, include_archived=_show_archived(request))
    holders = (
        RoleAssignment.objects.active()
        .visible_to(user)
        .filter(unit=unit)
        .select_related("user")
        .order_by("role", "user__name")
    )
    guided = selectors.guided_teams(user, unit) if unit.is_police else Unit.objects.none()
    can_manage = access.can(user, "orgs.manage", unit)
    can_add = not unit.is_archived and access.can(user, "orgs.add_child", unit)
    can_grant = bool(access.roles_grantable_at(user, unit))
    return render(
        request,
        "orgs/unit_detail.html",
        {
            "unit": unit,
            "ancestors": selectors.visible_ancestors(user, unit),
            "summary": selectors.summarize(user, unit),
            "children": paginate(request, rows, per_page=100),
            "holders": holders,
            "guided": guided[:200],
            "can_manage": can_manage,
            "can_add": can_add and bool(forms.child_kinds(unit.kind)),
            "can_onboard": can_add and unit.kind == UnitKind.COUNTY_ASSOCIATION,
            "can_grant": can_grant,
            "can_see_roles": access.has_capability(user, "roles.view"),
            "can_see_members": unit.kind in ("team", "squad", "group")
            and access.can(user, "members.view", unit),
            "archived": _show_archived(request),
        },
    )


@login_required
def unit_create(request):
    """Create a unit under `?parent=` (or a root, for a platform-wide 系统管理员)."""
    parent = None
    if request.GET.get("parent"):
        parent = access.get_unit_for_user(request.user, request.GET["parent"])
        if not access.can(request.user, "orgs.add_child", parent):
            raise PermissionDenied("您无权在该单位下新建单位。")
    elif not access.has_global(request.user, "orgs.add_child"):
        raise PermissionDenied("只有全平台系统管理员可以新建顶级单位。")
    form = forms.UnitCreateForm(
        request.POST or None,
        parent_kind=parent.kind if parent else None,
        stations=selectors.station_choices(request.user).select_related("parent"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            unit = services.create_unit(
                actor=request.user,
                parent=parent,
                kind=data["kind"],
                name=data["name"],
                guiding_station=data["guiding_station"] if data["kind"] == UnitKind.TEAM else None,
                special_tag=data["special_tag"] if data["kind"] == UnitKind.GROUP else "",
                region_code=data["region_code"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"已新建{unit.kind_display}「{unit.name}」。")
            return redirect("orgs:unit", unit_id=unit.pk)
    return render(request, "orgs/unit_create.html", {"form": form, "parent": parent})


@login_required
def unit_edit(request, unit_id):
    """Rename a unit; for a team, also change its guiding station."""
    unit = access.get_unit_for_user(request.user, unit_id)
    if not access.can(request.user, "orgs.manage", unit):
        raise PermissionDenied("您无权修改该单位。")
    stations = None
    if unit.kind == UnitKind.TEAM:
        stations = selectors.station_choices(request.user).select_related("parent")
    initial = {
        "name": unit.name,
        "version": unit.version,
        "guiding_station": unit.guiding_station_id,
    }
    form = forms.UnitEditForm(request.POST or None, initial=initial, stations=stations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_unit(
                actor=request.user,
                unit=unit,
                name=data["name"],
                guiding_station=data.get("guiding_station"),
                expected_version=data["version"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("orgs:unit", unit_id=unit.pk)
    return render(request, "orgs/unit_edit.html", {"form": form, "unit": unit})


def _move_candidates(user, unit: Unit):
    kinds = set(ALLOWED_PARENT_KINDS[unit.kind])
    if unit.kind == UnitKind.GROUP and unit.special_tag:
        kinds = set(SPECIAL_GROUP_PARENT_KINDS)
    kinds.discard(None)
    return (
        Unit.objects.visible_to(user, "orgs.add_child")
        .active()
        .filter(kind__in=kinds)
        .exclude(path__startswith=unit.path)
        .exclude(pk=unit.parent_id)
        .order_by("path")[:500]
    )


@login_required
def unit_move(request, unit_id):
    """Put a unit (with everything below it) under another parent."""
    unit = access.get_unit_for_user(request.user, unit_id)
    if not access.can(request.user, "orgs.manage", unit):
        raise PermissionDenied("您无权调整该单位。")
    candidates = list(_move_candidates(request.user, unit))
    form = forms.MoveForm(
        request.POST or None, initial={"version": unit.version}, candidates=candidates
    )
    if request.method == "POST" and form.is_valid():
        try:
            new_parent = access.get_unit_for_user(request.user, form.cleaned_data["parent"])
            services.move_unit(
                actor=request.user,
                unit=unit,
                new_parent=new_parent,
                expected_version=form.cleaned_data["version"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"已将「{unit.name}」调整到「{new_parent.name}」之下。")
            return redirect("orgs:unit", unit_id=unit.pk)
    return render(
        request, "orgs/unit_move.html", {"form": form, "unit": unit, "candidates": candidates}
    )


@login_required
def unit_archive(request, unit_id, action):
    """Confirm, then archive (or restore) a unit and its subtree."""
    if action not in ("archive", "restore"):
        raise Http404
    unit = access.get_unit_for_user(request.user, unit_id)
    if not access.can(request.user, "orgs.manage", unit):
        raise PermissionDenied("您无权归档或恢复该单位。")
    restoring = action == "restore"
    affected = Unit.objects.subtree_of(unit)
    affected = affected.filter(archived_at=unit.archived_at) if restoring else affected.active()
    form = forms.VersionForm(request.POST or None, initial={"version": unit.version})
    error = ""
    if request.method == "POST" and form.is_valid():
        service = services.restore_unit if restoring else services.archive_unit
        try:
            count = service(
                actor=request.user, unit=unit, expected_version=form.cleaned_data["version"]
            )
        except DomainError as exc:
            raise_refusal(exc)
            error = exc.message
        else:
            messages.success(request, f"已{'恢复' if restoring else '归档'} {count} 个单位。")
            return redirect("orgs:unit", unit_id=unit.pk)
    return render(
        request,
        "orgs/unit_archive.html",
        {
            "unit": unit,
            "form": form,
            "restoring": restoring,
            "error": error,
            "affected": affected.count(),
        },
    )


@login_required
def onboard(request, unit_id):
    """队伍一键入驻 (4.5): a whole team with its squads and groups in one form."""
    county = access.get_unit_for_user(request.user, unit_id)
    if county.kind != UnitKind.COUNTY_ASSOCIATION or not access.can(
        request.user, "orgs.add_child", county
    ):
        raise PermissionDenied("只能在您管理的县级协会下入驻队伍。")
    form = forms.OnboardForm(
        request.POST or None,
        stations=selectors.station_choices(request.user).select_related("parent"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team = services.onboard_team(
                actor=request.user,
                county=county,
                name=data["name"],
                guiding_station=data["guiding_station"],
                squads=data["squads"],
                special_groups=data["special_groups"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            created = Unit.objects.subtree_of(team).count()
            messages.success(request, f"「{team.name}」已入驻，共建立 {created} 个单位。")
            return redirect("orgs:unit", unit_id=team.pk)
    return render(request, "orgs/onboard.html", {"form": form, "county": county})
