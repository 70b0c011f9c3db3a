"""Choosing a provider by self-share, the provider's answer, changing provider, and activation
with the codes of the decision letter."""

import re

import pytest
import sqlalchemy as sa

from tests import factories
from tests.conftest import csrf_token_from, post_form
from voucher.audit.models import AuditEvent
from voucher.mail.models import OutboxMessage
from voucher.vouchers import choice
from voucher.vouchers.codes import new_confirmation_code, new_voucher_code
from voucher.vouchers.models import AssignmentStatus, VoucherAssignment, VoucherStatus
from voucher.vouchers.states import InvalidTransition


@pytest.fixture
def voucher(db, world):
    """Home care for Aino: 20 h at 22,25 € (income-related), issued, no provider yet."""
    made = factories.voucher(db, holder=world.client, service=world.income,
                             unit_value_cents=2225, units=2000)
    made.code, made.confirmation_code = new_voucher_code(), new_confirmation_code()
    db.commit()
    return made


def test_options_show_price_and_self_share_per_unit_and_for_the_units_left(db, world, voucher):
    options = choice.provider_options(db, voucher)
    assert [(o.provider.legal_name, o.unit_price_cents, o.self_share_per_unit_cents,
             o.self_share_total_cents) for o in options] == [
        ("Kuuran Siivous Oy", 3100, 875, 17_500),       # (31,00 − 22,25) × 20
        ("Hoivapalvelu Aurinko Oy", 3900, 1675, 33_500),  # (39,00 − 22,25) × 20
    ]
    by_name = choice.provider_options(db, voucher, sort="name")
    assert [o.provider.legal_name for o in by_name] == ["Hoivapalvelu Aurinko Oy",
                                                        "Kuuran Siivous Oy"]
    swedish = choice.provider_options(db, voucher, language="sv")
    assert [o.provider.legal_name for o in swedish] == ["Hoivapalvelu Aurinko Oy"]


def test_self_share_is_never_negative(db, world):
    generous = factories.voucher(db, holder=world.client, service=world.fixed,
                                 unit_value_cents=5000, units=1000)
    assert {o.self_share_per_unit_cents for o in choice.provider_options(db, generous)} == {0}


def _login(auth, user):
    auth.login(user.email, factories.PASSWORD)


def test_client_compares_chooses_and_the_provider_accepts(client, auth, db, world, voucher,
                                                          outbox):
    _login(auth, world.client_user)
    page = client.get(f"/vouchers/{voucher.id}/provider")
    html = page.get_data(as_text=True)
    assert html.index("Kuuran Siivous Oy") < html.index("Hoivapalvelu Aurinko Oy")
    assert "8,75" in html and "175,00" in html
    response = client.post(f"/vouchers/{voucher.id}/provider",
                           data={"provider_id": world.provider.id,
                                 "csrf_token": csrf_token_from(page)})
    assert response.status_code == 303
    assert [m.template for m in outbox(to=world.provider_user.email)] == ["vouchers/request_new"]
    db.refresh(voucher)
    assert voucher.status == VoucherStatus.ISSUED and voucher.provider_id is None
    auth.logout()

    _login(auth, world.provider_user)
    listing = client.get("/vouchers/provider").get_data(as_text=True)
    assert "Aino V." in listing
    request_id = re.search(r"/vouchers/provider/requests/(\d+)/accept", listing).group(1)
    response = post_form(client, f"/vouchers/provider/requests/{request_id}/accept", {},
                         form_page="/vouchers/provider")
    assert response.status_code == 303
    db.rollback()
    db.refresh(voucher)
    assert (voucher.status, voucher.provider_id) == (VoucherStatus.ASSIGNED, world.provider.id)
    assert outbox(to=world.client.email)[-1].template == "vouchers/request_accepted"


def test_a_decline_needs_a_reason_and_the_client_chooses_again(client, auth, db, world,
                                                               voucher, outbox):
    request = choice.choose_provider(db, voucher, provider_id=world.provider.id,
                                     actor=world.actor(world.client_user), via="client")
    db.commit()
    _login(auth, world.provider_user)
    url = f"/vouchers/provider/requests/{request.id}/decline"
    assert post_form(client, url, {"reason": ""}).status_code == 422
    response = post_form(client, url, {"reason": "Ei vapaita hoitajia joulukuussa."})
    assert response.status_code == 303
    db.rollback()
    db.refresh(request)
    assert request.status == AssignmentStatus.DECLINED
    mail = outbox(to=world.client.email)[-1]
    assert mail.template == "vouchers/request_declined"
    assert "Ei vapaita hoitajia joulukuussa." in mail.body_text
    auth.logout()
    _login(auth, world.client_user)
    page = client.get(f"/vouchers/mine/{voucher.id}").get_data(as_text=True)
    assert "Ei vapaita hoitajia joulukuussa." in page
    db.rollback()
    choice.choose_provider(db, voucher, provider_id=world.cheap_provider.id,
                           actor=world.actor(world.client_user), via="client")


def test_changing_provider_keeps_the_current_one_until_the_new_one_accepts(db, world, voucher,
                                                                          outbox):
    client_actor = world.actor(world.client_user)
    first = choice.choose_provider(db, voucher, provider_id=world.provider.id,
                                   actor=client_actor, via="client")
    choice.accept_request(db, first, actor=world.actor(world.provider_user))
    second = choice.choose_provider(db, voucher, provider_id=world.cheap_provider.id,
                                    actor=client_actor, via="client")
    db.commit()
    assert voucher.provider_id == world.provider.id  # still serving
    choice.accept_request(db, second, actor=world.actor(world.case_manager))
    db.commit()
    assert voucher.provider_id == world.cheap_provider.id
    assert voucher.status == VoucherStatus.ASSIGNED
    assert first.status == AssignmentStatus.ENDED and second.status == AssignmentStatus.ACCEPTED
    assert "vouchers/assignment_ended" in [m.template for m in outbox()]


def test_choosing_refusals(db, world, voucher):
    actor = world.actor(world.client_user)
    unlisted = factories.provider(db, services={world.income: 3000},
                                  municipalities=[world.other_home])
    with pytest.raises(choice.ChoiceRefused):
        choice.choose_provider(db, voucher, provider_id=unlisted.id, actor=actor, via="client")
    choice.choose_provider(db, voucher, provider_id=world.provider.id, actor=actor, via="client")
    with pytest.raises(choice.ChoiceRefused):
        choice.choose_provider(db, voucher, provider_id=world.provider.id, actor=actor,
                               via="client")
    voucher.status = VoucherStatus.CANCELLED
    with pytest.raises(InvalidTransition):
        choice.choose_provider(db, voucher, provider_id=world.cheap_provider.id, actor=actor,
                               via="client")


def test_a_case_manager_chooses_on_the_clients_behalf(client, auth, db, world, voucher, outbox):
    _login(auth, world.case_manager)
    response = post_form(client, f"/vouchers/{voucher.id}/provider",
                         {"provider_id": world.cheap_provider.id})
    assert response.status_code == 303
    db.rollback()
    made = db.execute(sa.select(VoucherAssignment)).scalar_one()
    assert (made.chosen_via, made.chosen_by_user_id) == ("case_manager", world.case_manager.id)


def test_another_clients_voucher_and_another_providers_request_are_not_found(
        client, auth, db, world, voucher):
    other = factories.voucher(db, holder=factories.client(db, home=world.home),
                              service=world.fixed)
    request = choice.choose_provider(db, other, provider_id=world.cheap_provider.id,
                                     actor=world.actor(world.case_manager), via="case_manager")
    db.commit()
    _login(auth, world.client_user)
    for path in (f"/vouchers/mine/{other.id}", f"/vouchers/{other.id}/provider",
                 f"/vouchers/{other.id}/letter", f"/vouchers/{other.id}/letter.pdf"):
        assert client.get(path).status_code == 404, path
    assert post_form(client, f"/vouchers/{other.id}/provider",
                     {"provider_id": world.provider.id},
                     form_page=f"/vouchers/{voucher.id}/provider").status_code == 404
    auth.logout()
    _login(auth, world.provider_user)
    assert post_form(client, f"/vouchers/provider/requests/{request.id}/accept", {},
                     form_page="/vouchers/provider").status_code == 404
    assert client.get(f"/vouchers/provider/{other.id}").status_code == 404


def _activate(client, code, confirmation):
    return post_form(client, "/vouchers/provider/activate",
                     {"code": code, "confirmation_code": confirmation},
                     form_page="/vouchers/provider")


def test_activation_with_both_codes_assigns_the_voucher(client, auth, db, world, voucher,
                                                        outbox):
    _login(auth, world.provider_user)
    typed = voucher.code.lower().replace("-", " ")
    response = _activate(client, typed, voucher.confirmation_code.lower())
    assert response.status_code == 303
    db.rollback()
    db.refresh(voucher)
    assert (voucher.status, voucher.provider_id) == (VoucherStatus.ASSIGNED, world.provider.id)
    assignment = db.execute(sa.select(VoucherAssignment)).scalar_one()
    assert (assignment.chosen_via, assignment.status) == ("activation",
                                                          AssignmentStatus.ACCEPTED)
    assert outbox(to=world.client.email)[-1].template == "vouchers/activated"
    again = _activate(client, voucher.code, voucher.confirmation_code)
    assert again.status_code == 409
    assert "on jo käytössä yrityksessänne" in again.get_data(as_text=True)


def test_wrong_codes_are_refused_alike_counted_and_throttled(client, auth, db, world, voucher):
    _login(auth, world.provider_user)
    wrong_confirmation = _activate(client, voucher.code, "AAAAAA")
    no_such_code = _activate(client, "2345-6789-ABCD-EFGH-JKMN", voucher.confirmation_code)
    assert wrong_confirmation.status_code == no_such_code.status_code == 422
    message = "Näillä koodeilla ei löydy käytettävissä olevaa palveluseteliä."
    assert message in wrong_confirmation.get_data(as_text=True)
    assert message in no_such_code.get_data(as_text=True)
    for _ in range(choice.MAX_ACTIVATION_FAILURES - 2):
        _activate(client, voucher.code, "AAAAAA")
    db.rollback()
    failures = db.execute(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "voucher.activation_failed")).scalar()
    assert failures == choice.MAX_ACTIVATION_FAILURES
    throttled = _activate(client, voucher.code, voucher.confirmation_code)
    assert throttled.status_code == 429
    db.refresh(voucher)
    assert voucher.provider_id is None


def test_activation_of_a_voucher_in_use_elsewhere_is_refused(db, world, voucher):
    request = choice.choose_provider(db, voucher, provider_id=world.cheap_provider.id,
                                     actor=world.actor(world.client_user), via="client")
    choice.accept_request(db, request, actor=world.actor(world.case_manager))
    with pytest.raises(choice.ChoiceRefused):
        choice.activate_voucher(db, provider=world.provider, code=voucher.code,
                                confirmation_code=voucher.confirmation_code,
                                actor=world.actor(world.provider_user))


def test_activation_replaces_a_request_waiting_for_another_provider(db, world, voucher):
    waiting = choice.choose_provider(db, voucher, provider_id=world.cheap_provider.id,
                                     actor=world.actor(world.client_user), via="client")
    choice.activate_voucher(db, provider=world.provider, code=voucher.code,
                            confirmation_code=voucher.confirmation_code,
                            actor=world.actor(world.provider_user))
    db.commit()
    assert waiting.status == AssignmentStatus.ENDED
    assert voucher.provider_id == world.provider.id
    notices = db.execute(sa.select(OutboxMessage.template)).scalars().all()
    assert "vouchers/request_withdrawn" in notices
