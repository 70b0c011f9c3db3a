"""Login and password forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from voucher.forms import BaseForm


class LoginForm(BaseForm):
    email = EmailField(_l("E-mail address"), validators=[
        DataRequired(_l("Enter your e-mail address.")), Length(max=254)],
        render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"})


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a new password."))],
        description=_l("At least 12 characters. A few words in a row make a good password."),
        render_kw={"autocomplete": "new-password"})
    confirm_password = PasswordField(_l("New password again"), validators=[
        DataRequired(_l("Enter the new password again."))],
        render_kw={"autocomplete": "new-password"})


class ResetRequestForm(BaseForm):
    email = EmailField(_l("E-mail address"), validators=[
        DataRequired(_l("Enter your e-mail address.")),
        Email(_l("Enter an e-mail address in the form name@example.fi.")), Length(max=254)],
        render_kw={"autocomplete": "email"})


class SetPasswordForm(BaseForm):
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a new password."))],
        description=_l("At least 12 characters. A few words in a row make a good password."),
        render_kw={"autocomplete": "new-password"})
    confirm_password = PasswordField(_l("New password again"), validators=[
        DataRequired(_l("Enter the new password again."))],
        render_kw={"autocomplete": "new-password"})



class TotpForm(BaseForm):
    code = StringField(_l("Verification code"), validators=[
        DataRequired(_l("Enter the six-digit code from your authenticator app.")),
        Length(min=6, max=6, message=_l("The code has six digits."))],
        description=_l("Open the authenticator app on your phone and type the code it shows."),
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class DisableTwoFactorForm(BaseForm):
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"})
