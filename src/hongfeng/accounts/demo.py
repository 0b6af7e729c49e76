"""The demo accounts: one per role (README), plus people in a sibling county and another city so
that scoping shows. Two demo steps: "accounts.platform" opens the three powers' accounts (the
tower is built by the system admin), "accounts.cast" grants every other account its role once
the tower stands. `cast.users` names each account by its key."""

from hongfeng.accounts.models import Role, User
from hongfeng.accounts.services import bootstrap_three_powers_account, grant_role
from hongfeng.core.registry import DemoAccount
from hongfeng.orgs import demo as orgs_demo

ACCOUNTS: list[DemoAccount] = [
    DemoAccount(
        "system_admin",
        "王志远",
        "13900000001",
        Role.SYSTEM_ADMIN,
        None,
        "账号与组织架构配置，不接触业务个人数据",
    ),
    DemoAccount(
        "security_admin", "李安平", "13900000002", Role.SECURITY_ADMIN, None, "授权与解除锁定"
    ),
    DemoAccount("auditor", "赵明察", "13900000003", Role.AUDITOR, None, "只读审计记录"),
    DemoAccount(
        "province_admin", "陈浙华", "13900000010", Role.ASSOCIATION_ADMIN, "province", "全省协会"
    ),
    DemoAccount(
        "city_admin", "周越人", "13900000011", Role.ASSOCIATION_ADMIN, "shaoxing", "绍兴市协会"
    ),
    DemoAccount(
        "county_admin", "吴暨阳", "13900000012", Role.ASSOCIATION_ADMIN, "zhuji", "诸暨市协会"
    ),
    DemoAccount(
        "bureau_officer",
        "郑公正",
        "13900000020",
        Role.BUREAU_OFFICER,
        "zhuji_bureau",
        "诸暨市公安局：所辖派出所及其指导的总队",
    ),
    DemoAccount(
        "station_officer",
        "冯枫桥",
        "13900000021",
        Role.STATION_OFFICER,
        "fengqiao",
        "枫桥派出所：其指导的总队（属地管理）",
    ),
    DemoAccount("captain", "楼红枫", "13900000030", Role.CAPTAIN, "hongfeng", "红枫义警总队"),
    DemoAccount(
        "squad_leader", "何一队", "13900000031", Role.SQUAD_LEADER, "hongfeng_squad1", "第一分队"
    ),
    DemoAccount(
        "group_leader", "蒋一组", "13900000032", Role.GROUP_LEADER, "hongfeng_group1", "第一小组"
    ),
    DemoAccount(
        "volunteer", "张三", "13900000033", Role.VOLUNTEER, "hongfeng_group1", "第一小组队员"
    ),
    DemoAccount(
        "outsider",
        "钱西湖",
        "13900000040",
        Role.ASSOCIATION_ADMIN,
        "xihu",
        "另一城市的县级协会（看不到诸暨）",
    ),
    DemoAccount(
        "outside_captain", "孙湖滨", "13900000041", Role.CAPTAIN, "xihu_team", "另一城市的总队长"
    ),
    DemoAccount(
        "sibling_captain",
        "钱柯岩",
        "13900000042",
        Role.CAPTAIN,
        "keqiao_team",
        "同市另一县的总队长",
    ),
]


def build_platform(cast) -> None:
    """The three powers' accounts (platform-wide, opened as at the server console)."""
    for account in ACCOUNTS:
        if account.unit_key is None:
            cast.users[account.key] = bootstrap_three_powers_account(
                mobile=account.mobile, name=account.name, password=cast.password, role=account.role
            )


def build_cast(cast) -> None:
    """Every other account, granted its role over its unit by the security admin; then the cast
    is read back from the database, so the steps after this one start from fresh objects."""
    security = cast.users["security_admin"]
    for account in ACCOUNTS:
        if account.unit_key is None:
            continue
        # Demo accounts are opened with their known password (README), so no activation code
        # goes out for them; a real account is opened by `grant_role_by_mobile`.
        user = User.objects.filter(mobile=account.mobile).first()
        if user is None:
            user = User.objects.create_user(
                mobile=account.mobile, name=account.name, password=cast.password
            )
        grant_role(actor=security, user=user, role=account.role, unit=cast.units[account.unit_key])
    cast.units.clear()
    cast.users.clear()
    orgs_demo.load(cast)
    load(cast)


def load(cast) -> None:
    """The demo accounts from a database that the build filled (by their mobiles)."""
    users = {u.mobile: u for u in User.objects.filter(mobile__in=[a.mobile for a in ACCOUNTS])}
    for account in ACCOUNTS:
        cast.users[account.key] = users[account.mobile]


def exists() -> bool:
    return User.objects.exists()
