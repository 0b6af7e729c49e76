from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts

from hongfeng.accounts.models import Role
from hongfeng.core.forms import TablerFormMixin


def _mobile_field() -> forms.CharField:
    """The account's mobile number, as the login and activation pages ask for it."""
    return forms.CharField(
        label="手机号",
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "numeric"}),
    )


class LoginForm(TablerFormMixin, forms.Form):
    mobile = _mobile_field()
    password = forms.CharField(
        label="密码",
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ActivationRequestForm(TablerFormMixin, forms.Form):
    mobile = _mobile_field()


class ActivationForm(TablerFormMixin, forms.Form):
    mobile = _mobile_field()
    code = forms.CharField(
        label="短信激活码",
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "placeholder": "8位数字",
            }
        ),
    )
    new_password = forms.CharField(
        label="设置密码",
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label="再次输入密码",
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the first rule (the composition profile) is the one people need to read
        self.fields["new_password"].help_text = password_validators_help_texts()[0]

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", "两次输入的密码不一致。")
        return data


class PasswordChangeForm(TablerFormMixin, forms.Form):
    old_password = forms.CharField(
        label="原密码",
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label="新密码",
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label="再次输入新密码",
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", "两次输入的新密码不一致。")
        return data


class GrantForm(TablerFormMixin, forms.Form):
    mobile = forms.CharField(
        label="被授权人手机号",
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    name = forms.CharField(
        label="姓名",
        max_length=50,
        required=False,
        help_text="手机号尚未注册时必填，将为其新建账号。",
    )
    role = forms.ChoiceField(label="角色")

    def __init__(self, *args, roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "请选择角色")] + [(r, Role(r).label) for r in roles]


class ReasonForm(TablerFormMixin, forms.Form):
    reason = forms.CharField(
        label="原因",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "必填，将记入审计"}),
    )
