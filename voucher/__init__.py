"""Voucher: a service-voucher marketplace for a Finnish joint municipal authority."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from voucher.config import load_config


def create_app(config: dict | None = None) -> Flask:
    """Build the app: configuration, database, login, languages, blueprints, error pages.

    ``config`` overrides settings read from the environment (tests pass their database here).
    """
    settings = load_config((config or {}).get("VOUCHER_ENV"))
    settings.update(config or {})
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    import voucher.models  # noqa: F401  (every table known, whatever runs: web, CLI, jobs)
    from voucher import logs

    logs.init_app(app)
    _register_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    if app.config.get("SAML_IDP_METADATA"):
        # An https metadata address is fetched now, before any request or transaction.
        from voucher.identification.saml import idp_origins, is_enabled, refresh_idp_metadata

        refresh_idp_metadata(app, only_if_missing=True)
        if is_enabled(app):
            # Logging out sends the browser on to the IdP from a form (CSP form-action).
            app.config["FORM_ACTION_ORIGINS"] = idp_origins(app)
    return app


def _register_extensions(app: Flask) -> None:
    from voucher import db, errors, i18n, rate_limits, security, static_files
    from voucher.access import register_access_check
    from voucher.accounts import passwords
    from voucher.accounts.services import load_user_for_session
    from voucher.extensions import csrf, limiter, login_manager
    from voucher.identification.saml import is_enabled as saml_enabled
    from voucher.navigation import nav_items

    passwords.configure(fast=app.config["TESTING"])
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    rate_limits.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load_user(identity: str):
        # Checked on every request against the session's row on the server (logout, a
        # password change or an administrator's lock end it on every app server).
        from flask import session as cookie

        from voucher.accounts.sessions import COOKIE_KEY

        return load_user_for_session(db.session(), identity, cookie.get(COOKIE_KEY))

    i18n.init_app(app)
    security.init_app(app)
    static_files.init_app(app)
    register_access_check(app)
    errors.register_error_handlers(app)
    # Last, so that its after_request hook runs first: the commit happens before the security
    # headers and the access log see the final response.
    db.init_app(app)
    import voucher.accounts.labels  # noqa: F401  (registers the role names)
    from voucher.labels import label

    app.jinja_env.globals.update(
        nav_items=nav_items, role_label=label,
        has_endpoint=lambda endpoint: endpoint in app.view_functions,
        saml_enabled=lambda: saml_enabled(app),
    )
    app.jinja_env.filters["label"] = label
    app.jinja_env.add_extension("jinja2.ext.do")
    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def _register_blueprints(app: Flask) -> None:
    from voucher import health
    from voucher.accounting.views import bp as accounting
    from voucher.accounts.admin_views import bp as users
    from voucher.accounts.two_factor_views import bp as two_factor
    from voucher.accounts.two_factor_views import register_enforcement
    from voucher.accounts.views import bp as accounts
    from voucher.alerts.views import bp as alerts
    from voucher.api import bp as api
    from voucher.api.token_views import bp as api_tokens
    from voucher.audit.views import bp as audit
    from voucher.budgets.views import bp as budgets
    from voucher.catalogue.income_views import bp as income_tables
    from voucher.catalogue.views import bp as catalogue
    from voucher.changes.views import bp as changes
    from voucher.clients.views import bp as clients
    from voucher.feedback.views import bp as feedback
    from voucher.home.views import bp as home
    from voucher.identification.views import bp as identification
    from voucher.invoicing.views import bp as invoicing
    from voucher.mail.views import bp as mail
    from voucher.mandates.views import bp as mandates
    from voucher.payments.views import bp as payments
    from voucher.privacy.views import bp as privacy
    from voucher.providers.views import bp as providers
    from voucher.redemptions.views import bp as redemptions
    from voucher.register.views import bp as register
    from voucher.reports.views import bp as reports
    from voucher.reviews.views import bp as reviews
    from voucher.settlement.views import bp as settlement
    from voucher.vouchers.views import bp as vouchers

    # One per line: every domain adds its own.
    for blueprint in (
        home,
        accounts,
        two_factor,
        identification,
        mandates,
        users,
        health.bp,
        mail,
        audit,
        alerts,
        api,
        api_tokens,
        catalogue,
        providers,
        register,
        clients,
        privacy,
        vouchers,
        reviews,
        changes,
        budgets,
        income_tables,
        redemptions,
        invoicing,
        feedback,
        payments,
        settlement,
        accounting,
        reports,
    ):
        app.register_blueprint(blueprint)
    register_enforcement(app)
    from voucher.mandates.acting import register_acting_check

    register_acting_check(app)


def _register_cli(app: Flask) -> None:
    from voucher.cli import register_commands

    register_commands(app)


logging.getLogger(__name__).addHandler(logging.NullHandler())
