"""Every audit action code with the label auditors read. A code not listed here is refused, so
the audit browser can always explain what an event means."""

ACTIONS: dict[str, str] = {
    # authentication (security.md)
    "auth.login": "登录成功",
    "auth.login_failed": "登录失败",
    "auth.locked_out": "账号锁定",
    "auth.unlocked": "解除锁定",
    "auth.logout": "退出登录",
    "auth.session_expired": "会话超时",
    "auth.token_issued": "签发API令牌",
    "auth.token_revoked": "吊销API令牌",
    "auth.password_changed": "修改密码",
    # accounts and roles
    "account.created": "创建账号",
    "account.disabled": "停用账号",
    "account.enabled": "启用账号",
    "account.password_reset": "重置密码",
    "role.granted": "授予角色",
    "role.revoked": "撤销角色",
    # organisation tower (5.1)
    "unit.created": "新建单位",
    "unit.renamed": "重命名单位",
    "unit.moved": "调整上级单位",
    "unit.archived": "归档单位",
    "unit.restored": "恢复单位",
    "unit.station_changed": "更换指导派出所",
    "team.onboarded": "队伍一键入驻",
    # member files (5.2.7)
    "member.registered": "登记队员",
    "member.updated": "修改队员档案",
    "member.contact_updated": "本人修改联系方式",
    "member.status_changed": "变更队员状态",
    "member.moved": "调整队员所在单位",
    "member.photo_updated": "更换队员照片",
    "member.partnered": "1+1 结对",
    "member.revealed": "查看明文个人信息",
    "member.certificate_added": "登记证书",
    "member.certificate_removed": "删除证书记录",
    "member.insurance_added": "登记保险",
    "member.equipment_issued": "发放装备",
    "member.equipment_returned": "归还装备",
    "member.pre_job_training": "登记岗前培训",
    "member.exported": "导出队员名册",
    "member.pdf_exported": "导出队员档案PDF",
    "roster.uploaded": "上传队员名册",
    "roster.confirmed": "确认导入队员名册",
    "roster.imported": "导入队员名册",
    # recruitment (5.2.2)
    "charter.published": "发布队伍章程",
    "application.submitted": "提交入队申请",
    "application.approved": "入队申请通过",
    "application.rejected": "入队申请未通过",
    # audit itself
    "audit.verified": "校验审计链",
    # Activities (5.2.3, 5.2.9, 6.1.4)
    "activity.created": "创建活动",
    "activity.updated": "修改活动",
    "activity.published": "发布活动",
    "activity.cancelled": "取消活动",
    "activity.finished": "结束活动",
    "activity.signed_up": "报名活动",
    "activity.sign_up_cancelled": "取消报名",
    "activity.declined": "婉拒活动",
    "activity.check_in": "签到",
    "activity.check_out": "签退",
    "activity.manual_check_in": "组织者补签",
    "activity.auto_check_out": "系统自动签退",
    "activity.check_in_reviewed": "审核异常签到",
    "activity.rated": "评定完成质量",
    "activity.evaluated": "活动成效评价",
    "activity.hours_corrected": "更正服务时长",
    "activity.attendance_published": "发布考勤公示",
    "notice.read": "阅读站内消息",
    # Points (5.4.5, 7.2.2)
    "points.awarded": "发放活动积分",
    "points.rule_published": "发布积分规则",
}


def action_label(code: str) -> str:
    return ACTIONS.get(code, code)
