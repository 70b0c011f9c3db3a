"""Deciding on vouchers: value by basis, four eyes, commitment per year, refusals."""

import datetime as dt

import pytest
import sqlalchemy as sa

from voucher.audit.models import AuditEvent
from voucher.budgets.ledger import BudgetExceeded, NoBudget
from voucher.budgets.models import Budget, BudgetEntry
from voucher.errors import ValidationFailed
from voucher.mail.models import OutboxMessage
from voucher.vouchers import issuing
from voucher.vouchers.models import Recurrence, ValueBasis, Voucher, VoucherStatus
from voucher.vouchers.policy import current_policy

D = dt.date


def decision(service, **overrides) -> issuing.Decision:
    values = dict(service_type_id=service.id, need_assessment="Tarvitsee apua siivoukseen.",
                  recurrence=Recurrence.TOTAL, units_per_period=1000,
                  valid_from=D(2026, 12, 1), valid_until=D(2026, 12, 31))
    values.update(overrides)
    return issuing.Decision(**values)


def issue(db, world, service, by=None, **overrides) -> Voucher:
    by = by or world.case_manager
    return issuing.issue_decision(db, client=world.client, decision=decision(service, **overrides),
                                  actor=world.actor(by))


def budget(db, world, code, year) -> Budget:
    db.expire_all()
    return db.get(Budget, world.budgets[(code, year)].id)


def test_fixed_value_below_the_threshold_is_issued_and_committed_at_once(db, world):
    voucher = issue(db, world, world.fixed)
    db.commit()
    assert voucher.status == VoucherStatus.ISSUED
    assert (voucher.value_basis, voucher.unit_value_cents) == (ValueBasis.FIXED, 2500)
    assert voucher.units_granted == 1000 and voucher.committed_cents == 25_000
    assert budget(db, world, "CLEANING", 2026).committed_cents == 25_000
    assert voucher.issued_at is not None and voucher.approved_by_user_id is None
    actions = db.execute(sa.select(AuditEvent.action).where(
        AuditEvent.object_id == str(voucher.id), AuditEvent.object_type == "voucher")).scalars()
    assert "voucher.issued" in list(actions)
    mail = db.execute(sa.select(OutboxMessage)).scalars().one()
    assert (mail.to_address, mail.template) == (world.client.email, "vouchers/issued")
    assert voucher.decision_number.startswith("PS-")
    assert f"Päätöksen numero: {voucher.decision_number}" in mail.body_text


def test_monthly_voucher_commits_each_budget_year_its_months(db, world):
    voucher = issue(db, world, world.fixed, recurrence=Recurrence.MONTHLY, units_per_period=800,
                    valid_from=D(2026, 12, 1), valid_until=D(2027, 3, 31))
    db.commit()
    assert [p.units_granted for p in voucher.periods] == [800] * 4
    assert voucher.committed_cents == 4 * 8 * 2500
    assert budget(db, world, "CLEANING", 2026).committed_cents == 20_000
    assert budget(db, world, "CLEANING", 2027).committed_cents == 60_000


def test_income_related_value_is_computed_and_the_calculation_stored(db, world):
    # 1 person, 1 650 € a month: limit 1 000 €, 1,5 % of 650 € = 9,75 €; 32,00 − 9,75 = 22,25.
    voucher = issue(db, world, world.income, household_size=1, income_cents=165_000,
                    units_per_period=2000)
    assert voucher.value_basis == ValueBasis.INCOME_RELATED
    assert voucher.unit_value_cents == 2225
    calc = voucher.calculation
    assert (calc["income_limit_cents"], calc["excess_cents"], calc["reduction_cents"]) == (
        100_000, 65_000, 975)
    assert calc["maximum_value_cents"] == 3200 and calc["minimum_value_cents"] == 800


def test_income_below_the_minimum_grants_nothing_unless_raised_with_a_reason(db, world):
    with pytest.raises(ValidationFailed) as refused:
        issue(db, world, world.income, household_size=1, income_cents=400_000)
    assert "income" in refused.value.errors
    db.rollback()
    voucher = issue(db, world, world.income, household_size=1, income_cents=400_000,
                    raised_value_cents=1500,
                    raise_reason="Omavastuu vaarantaisi asiakkaan toimeentulon.")
    assert voucher.unit_value_cents == 1500
    assert voucher.value_raise_reason.startswith("Omavastuu")
    assert voucher.calculation["below_minimum"] is True


def test_raise_needs_a_reason_and_stays_within_the_cap(db, world):
    with pytest.raises(ValidationFailed) as refused:
        issue(db, world, world.fixed, raised_value_cents=3000, raise_reason="")
    assert set(refused.value.errors) == {"raise_reason"}
    with pytest.raises(ValidationFailed) as refused:
        issue(db, world, world.fixed, raised_value_cents=3801, raise_reason="Toimeentulo vaarassa")
    assert set(refused.value.errors) == {"raised_value"}
    with pytest.raises(ValidationFailed) as refused:
        issue(db, world, world.fixed, raised_value_cents=2500, raise_reason="Toimeentulo vaarassa")
    assert set(refused.value.errors) == {"raised_value"}


def test_free_service_commits_the_price_cap_and_cannot_be_raised(db, world):
    voucher = issue(db, world, world.free, units_per_period=500)
    assert (voucher.value_basis, voucher.unit_value_cents) == (ValueBasis.FREE_FOR_CLIENT, 4000)
    assert voucher.committed_cents == 20_000
    with pytest.raises(ValidationFailed):
        issue(db, world, world.free, raised_value_cents=4500, raise_reason="Toimeentulo vaarassa")


@pytest.mark.parametrize("overrides, field", [
    (dict(valid_from=D(2026, 12, 31), valid_until=D(2026, 12, 1)), "valid_until"),
    (dict(valid_from=D(2026, 1, 1), valid_until=D(2026, 6, 30)), "valid_until"),
    (dict(units_per_period=0), "units"),
    (dict(units_per_period=-500), "units"),
    (dict(need_assessment="  "), "need_assessment"),
])
def test_bad_decisions_are_refused_next_to_the_field_and_store_nothing(db, world, overrides,
                                                                       field):
    with pytest.raises(ValidationFailed) as refused:
        issue(db, world, world.fixed, **overrides)
    assert field in refused.value.errors
    db.rollback()
    assert db.execute(sa.select(sa.func.count()).select_from(Voucher)).scalar() == 0


def test_whole_units_only_for_a_service_without_fractions(db, world):
    world.fixed.fractional_units = False
    db.flush()
    with pytest.raises(ValidationFailed) as refused:
        issue(db, world, world.fixed, units_per_period=150)
    assert "units" in refused.value.errors


def test_overdraw_is_refused_with_the_figures_and_changes_nothing(db, world):
    target = world.budgets[("CLEANING", 2026)]
    target.amount_cents = 20_000
    db.commit()
    with pytest.raises(BudgetExceeded) as refused:
        issue(db, world, world.fixed)  # 250,00 € needed
    text = str(refused.value)
    assert "250,00" in text and "200,00" in text and "2026" in text
    db.rollback()
    assert db.execute(sa.select(sa.func.count()).select_from(Voucher)).scalar() == 0
    assert budget(db, world, "CLEANING", 2026).committed_cents == 0


def test_a_missing_year_budget_refuses_the_whole_decision(db, world):
    db.delete(world.budgets[("CLEANING", 2027)])
    db.commit()
    with pytest.raises(NoBudget) as refused:
        issue(db, world, world.fixed, valid_until=D(2027, 1, 31))
    assert "2027" in str(refused.value)
    db.rollback()
    assert budget(db, world, "CLEANING", 2026).committed_cents == 0


def test_above_the_threshold_waits_for_a_second_case_manager(db, world):
    current_policy(db).four_eyes_threshold_cents = 20_000
    db.flush()
    voucher = issue(db, world, world.fixed)  # 250 € > 200 €
    assert voucher.status == VoucherStatus.PENDING_APPROVAL
    assert budget(db, world, "CLEANING", 2026).committed_cents == 0
    with pytest.raises(issuing.OwnDecision):
        issuing.approve_decision(db, voucher, actor=world.actor(world.case_manager))
    issuing.approve_decision(db, voucher, actor=world.actor(world.second_case_manager))
    db.commit()
    assert voucher.status == VoucherStatus.ISSUED
    assert voucher.approved_by_user_id == world.second_case_manager.id
    assert budget(db, world, "CLEANING", 2026).committed_cents == 25_000


def test_the_database_refuses_an_approval_by_the_maker(db, world):
    current_policy(db).four_eyes_threshold_cents = 0
    voucher = issue(db, world, world.fixed)
    db.commit()
    with pytest.raises(sa.exc.IntegrityError):
        db.execute(sa.update(Voucher).where(Voucher.id == voucher.id)
                   .values(approved_by_user_id=world.case_manager.id))
    db.rollback()


def test_an_approval_the_budget_can_no_longer_cover_is_refused(db, world):
    current_policy(db).four_eyes_threshold_cents = 0
    voucher = issue(db, world, world.fixed)
    world.budgets[("CLEANING", 2026)].amount_cents = 10_000
    db.commit()
    with pytest.raises(BudgetExceeded):
        issuing.approve_decision(db, voucher, actor=world.actor(world.second_case_manager))
    db.rollback()
    db.refresh(voucher)
    assert voucher.status == VoucherStatus.PENDING_APPROVAL


def test_rejection_cancels_and_tells_the_maker(db, world):
    current_policy(db).four_eyes_threshold_cents = 0
    voucher = issue(db, world, world.fixed)
    issuing.reject_decision(db, voucher, reason="Tarve ei ole näin suuri.",
                            actor=world.actor(world.second_case_manager))
    db.commit()
    assert voucher.status == VoucherStatus.CANCELLED
    assert db.execute(sa.select(OutboxMessage.to_address)).scalars().all() == [
        world.case_manager.email]


def test_a_draft_is_stored_without_commitment_and_issued_later(db, world):
    draft = issuing.save_draft(db, client=world.client, decision=decision(world.fixed),
                               actor=world.actor(world.case_manager))
    assert draft.status == VoucherStatus.DRAFT and draft.committed_cents == 0
    issued = issuing.issue_decision(
        db, client=world.client, voucher=draft,
        decision=decision(world.fixed, recurrence=Recurrence.MONTHLY, units_per_period=400),
        actor=world.actor(world.second_case_manager))
    db.commit()
    assert issued.id == draft.id and issued.status == VoucherStatus.ISSUED
    assert issued.created_by_user_id == world.second_case_manager.id
    assert [p.units_granted for p in issued.periods] == [400]
    assert db.execute(sa.select(sa.func.sum(BudgetEntry.amount_cents))).scalar() == 10_000


def test_codes_are_unguessable_and_separate(db, world):
    first, second = issue(db, world, world.fixed), issue(db, world, world.fixed)
    assert first.code != second.code
    assert len(first.code.replace("-", "")) == 20 and not set(first.code) & set("01OIL")
    assert len(first.confirmation_code) == 6
