"""Daily settlement of transit and walk-up railway taps through the pay-later channel.

``settle_day`` prices the day (one aggregated charge per account); ``apply_charges`` collects
each through a ``Charger``. A failed charge becomes a debt and puts the account on the deny
list that the next gate bundle carries; ``pay_debt`` collects the debts and lifts the block
once none is left. A late tap makes the day's figures change: ``corrections`` gives the
difference to collect or refund against what was charged before.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from open12306.payments.ports import PaymentOptions, PaymentProvider, PayMode
from open12306.payments.ports import TradeState as ChannelState
from open12306.shared.clock import Clock
from open12306.shared.errors import DomainError
from open12306.transit.domain import (
    Charge,
    Operator,
    Tap,
    service_day_bounds,
    settle_accounts,
    week_start,
)
from open12306.transit.ports import (
    ArrearsStore,
    Charger,
    Debt,
    DebtPayment,
    DebtPaymentStore,
    DenyListStore,
    RefundingCharger,
    SettledDay,
    TransitStore,
)


@dataclass(frozen=True, slots=True)
class ChargeOutcome:
    """What happened to one charge: collected, failed (now a debt), or nothing to collect."""

    reference: str
    account_token: str
    amount_fen: int
    collected: bool


@dataclass(frozen=True, slots=True)
class Correction:
    """The change of one day's charge after late taps: >0 to collect, <0 to refund (fen)."""

    reference: str
    account_token: str
    day: date
    delta_fen: int


def settle_day(taps: Iterable[Tap], operators: Mapping[str, Operator], day: date) -> list[Charge]:
    """One aggregated charge per account for service day ``day`` (see transit.domain.settle)."""
    return settle_accounts(taps, operators, day)


def apply_charges(
    charges: Iterable[Charge],
    charger: Charger,
    deny_list: DenyListStore,
    arrears: ArrearsStore,
) -> list[ChargeOutcome]:
    """Collect each charge; a failure records a debt and deny-lists the account.

    Charges of 0 fen are not sent to the channel and count as collected.
    """
    outcomes: list[ChargeOutcome] = []
    for charge in charges:
        account, fen, reference = charge.account_token, charge.amount_fen, charge.reference
        collected = fen == 0 or charger.charge(account, fen, reference)
        if not collected:
            arrears.add(Debt(reference, account, fen))
            deny_list.add(account)
        outcomes.append(ChargeOutcome(reference, account, fen, collected))
    return outcomes


def pay_debt(
    account_token: str, charger: Charger, deny_list: DenyListStore, arrears: ArrearsStore
) -> int:
    """Collect the account's debts (oldest reference first); returns what is still owed.

    When nothing is owed any more the account leaves the deny list.
    """
    for debt in sorted(arrears.outstanding(account_token), key=lambda d: d.reference):
        if charger.charge(account_token, debt.amount_fen, debt.reference):
            arrears.clear(debt.reference)
    owed = sum(d.amount_fen for d in arrears.outstanding(account_token))
    if owed == 0:
        deny_list.remove(account_token)
    return owed


def corrections(previous: Sequence[Charge], current: Sequence[Charge]) -> list[Correction]:
    """Differences between charges made earlier and the same days settled again."""
    before = {c.reference: c for c in previous}
    after = {c.reference: c for c in current}
    changes: list[Correction] = []
    for reference in sorted(before.keys() | after.keys()):
        old, new = before.get(reference), after.get(reference)
        some = new or old
        if some is None:
            continue
        delta = (new.amount_fen if new else 0) - (old.amount_fen if old else 0)
        if delta:
            changes.append(Correction(reference, some.account_token, some.day, delta))
    return changes


class MemoryDenyList:
    """A deny list held in memory (tests, demos)."""

    def __init__(self) -> None:
        self._accounts: set[str] = set()

    def add(self, account_token: str) -> None:
        self._accounts.add(account_token)

    def remove(self, account_token: str) -> None:
        self._accounts.discard(account_token)

    def accounts(self) -> frozenset[str]:
        return frozenset(self._accounts)


class MemoryArrears:
    """Debts held in memory, one per reference (tests, demos)."""

    def __init__(self) -> None:
        self._debts: dict[str, Debt] = {}

    def add(self, debt: Debt) -> None:
        self._debts[debt.reference] = debt

    def outstanding(self, account_token: str) -> list[Debt]:
        return [d for d in self._debts.values() if d.account_token == account_token]

    def clear(self, reference: str) -> None:
        self._debts.pop(reference, None)


@dataclass(frozen=True, slots=True)
class DayTotals:
    """What settling a service day did, in fen where it is money.

    ``charged_fen``: collected (first charges and positive corrections); ``failed_fen``: not
    collected, now debts; ``refunded_fen``: given back or struck off debts after corrections;
    ``capped_savings_fen``: fares the caps took off.
    """

    day: date
    taps: int
    journeys: int
    accounts: int
    charged_fen: int
    failed_fen: int
    failed_accounts: int
    refunded_fen: int
    capped_savings_fen: int
    flagged_accounts: int
    corrections: int


class TransitSettlement:
    """Settles a service day from the stored taps: a day is charged once, and settling it
    again later charges or refunds only the difference (late taps)."""

    def __init__(
        self,
        store: TransitStore,
        operators: Mapping[str, Operator],
        charger: RefundingCharger,
        deny_list: DenyListStore,
        arrears: ArrearsStore,
    ) -> None:
        self.store = store
        self.operators = operators
        self.charger = charger
        self.deny_list = deny_list
        self.arrears = arrears

    def settle(self, day: date) -> DayTotals:
        margin = max(
            (op.max_journey_s for op in self.operators.values() if hasattr(op, "max_journey_s")),
            default=0,
        )
        start = service_day_bounds(week_start(day))[0] - margin
        taps = self.store.taps_between(start, service_day_bounds(day)[1] + margin)
        charges = settle_day(taps, self.operators, day)
        before = {s.day_reference: s for s in self.store.settled(day)}
        fresh = [c for c in charges if c.reference not in before]
        outcomes = apply_charges(fresh, self.charger, self.deny_list, self.arrears)
        for charge in fresh:
            self.store.save_settled(_settled(charge, 0))
        charged = sum(o.amount_fen for o in outcomes if o.collected)
        failed = {o.account_token: o.amount_fen for o in outcomes if not o.collected}
        refunded = 0
        previous = [Charge(s.account_token, day, s.amount_fen, ()) for s in before.values()]
        current = {c.reference: c for c in charges if c.reference in before}
        changes = corrections(previous, list(current.values()))
        for change in changes:
            settled = before[change.reference]
            reference = f"{change.reference}#{settled.corrections + 1}"
            if change.delta_fen > 0:
                if self.charger.charge(change.account_token, change.delta_fen, reference):
                    charged += change.delta_fen
                else:
                    self.arrears.add(Debt(reference, change.account_token, change.delta_fen))
                    self.deny_list.add(change.account_token)
                    failed[change.account_token] = failed.get(change.account_token, 0)
                    failed[change.account_token] += change.delta_fen
            else:
                refunded += self._give_back(change, reference)
            new = current.get(change.reference)
            amount = settled.amount_fen + change.delta_fen
            journeys = len(new.journeys) if new else 0
            self.store.save_settled(
                SettledDay(
                    change.reference,
                    change.account_token,
                    day,
                    amount,
                    journeys,
                    settled.corrections + 1,
                )
            )
        return DayTotals(
            day=day,
            taps=len(taps),
            journeys=sum(len(c.journeys) for c in charges),
            accounts=len(charges),
            charged_fen=charged,
            failed_fen=sum(failed.values()),
            failed_accounts=len(failed),
            refunded_fen=refunded,
            capped_savings_fen=sum(
                p.journey.fare_fen - p.charged_fen for c in charges for p in c.journeys
            ),
            flagged_accounts=sum(1 for c in charges if c.flagged),
            corrections=len(changes),
        )

    def _give_back(self, change: Correction, reference: str) -> int:
        """Strike the day's open debts first, refund the rest through the credit line."""
        left = -change.delta_fen
        account = change.account_token
        for debt in self.arrears.outstanding(account):
            if left == 0 or not debt.reference.startswith(change.reference):
                continue
            if debt.amount_fen <= left:
                self.arrears.clear(debt.reference)
                left -= debt.amount_fen
            else:
                self.store.set_debt_amount(debt.reference, debt.amount_fen - left)
                left = 0
        if not self.arrears.outstanding(account):
            self.deny_list.remove(account)
        if left:
            self.charger.refund(account, left, f"{reference}R")
        return -change.delta_fen


def _settled(charge: Charge, corrections_made: int) -> SettledDay:
    return SettledDay(
        charge.reference,
        charge.account_token,
        charge.day,
        charge.amount_fen,
        len(charge.journeys),
        corrections_made,
    )


@dataclass(frozen=True, slots=True)
class DebtPaymentOutcome:
    """Where paying an account's debts through a channel stands.

    ``state``: ``nothing_owed``, ``started`` (show ``redirect_url`` / ``qr_content`` to the
    rider), ``pending`` (not paid at the channel yet), ``paid``, ``amount_mismatch`` (the
    channel reports a different amount paid: the trade stays open, the debts stand, an operator
    must look), or (answering a notification only) ``closed``: the trade ended unpaid, the
    debts stand; ``owed_fen`` is what is still owed afterwards.
    """

    state: str
    account_token: str
    owed_fen: int
    payment_no: str | None = None
    amount_fen: int = 0
    redirect_url: str | None = None
    qr_content: str | None = None


class _Covered:
    """A charger that 'collects' exactly the debts a channel payment covered."""

    def __init__(self, references: Iterable[str]) -> None:
        self.references = frozenset(references)

    def charge(self, account_token: str, amount_fen: int, reference: str) -> bool:
        return reference in self.references


class DebtPayments:
    """Paying debts through a payment channel (Alipay, WeChat Pay): one trade for all of an
    account's debts; once the channel reports it paid, the debts are cleared and the account
    leaves the deny list. Safe to repeat: an open trade is queried, not started again.

    The channel's word arrives either by asking again (``pay``) or through its asynchronous
    notification (``notified``); either way the trade is queried before anything changes.
    """

    def __init__(
        self,
        store: DebtPaymentStore,
        deny_list: DenyListStore,
        arrears: ArrearsStore,
        providers: Mapping[str, PaymentProvider],
        clock: Clock,
        numbers: Callable[[], str] = lambda: f"TD{secrets.token_hex(10).upper()}",
    ) -> None:
        self.store = store
        self.deny_list = deny_list
        self.arrears = arrears
        self.providers = providers  # kept, not copied: channels added later are seen
        self.clock = clock
        self.numbers = numbers

    def pay(self, account_token: str, channel: str) -> DebtPaymentOutcome:
        provider = self._provider(channel)
        open_payment = self.store.open_payment(account_token)
        if open_payment is not None:
            outcome = self._check(open_payment)
            if outcome is not None:
                return outcome
        debts = self.arrears.outstanding(account_token)
        if not debts:
            self.deny_list.remove(account_token)
            return DebtPaymentOutcome("nothing_owed", account_token, 0)
        total = sum(d.amount_fen for d in debts)
        number = self.numbers()
        prompt = provider.prepare(
            number, total, "open12306 transit arrears", PaymentOptions(mode=PayMode.QR)
        )
        self.store.save_payment(
            DebtPayment(
                number,
                account_token,
                channel,
                total,
                tuple(d.reference for d in debts),
                "pending",
                self.clock.now(),
            )
        )
        return DebtPaymentOutcome(
            "started", account_token, total, number, total, prompt.redirect_url, prompt.qr_content
        )

    def notified(self, channel: str, payment_no: str) -> DebtPaymentOutcome | None:
        """A verified notification about trade ``payment_no`` of ``channel`` arrived.

        None when the trade is not a debt payment (an order's, say) or belongs to another
        channel. Otherwise the trade is queried and applied as ``pay`` would; repeated or
        late notifications of a settled payment change nothing and answer its state.
        """
        payment = self.store.payment(payment_no)
        if payment is None or payment.channel != channel:
            return None
        token = payment.account_token
        if payment.state == "pending":
            outcome = self._check(payment)
            if outcome is not None:
                return outcome
            payment = replace(payment, state="closed")
        owed = sum(d.amount_fen for d in self.arrears.outstanding(token))
        return DebtPaymentOutcome(payment.state, token, owed, payment_no, payment.amount_fen)

    def _provider(self, channel: str) -> PaymentProvider:
        provider = self.providers.get(channel)
        if provider is None:
            known = ", ".join(sorted(self.providers)) or "none configured"
            raise DomainError("channel", "unknown_channel", f"channel {channel!r} ({known})")
        return provider

    def _check(self, payment: DebtPayment) -> DebtPaymentOutcome | None:
        status = self._provider(payment.channel).query(payment.payment_no)
        token = payment.account_token
        if status.state is ChannelState.PAID and status.amount_fen == payment.amount_fen:
            owed = pay_debt(token, _Covered(payment.debts), self.deny_list, self.arrears)
            self.store.save_payment(replace(payment, state="paid"))
            return DebtPaymentOutcome("paid", token, owed, payment.payment_no, payment.amount_fen)
        if status.state in (ChannelState.PENDING, ChannelState.NOT_FOUND, ChannelState.PAID):
            # Paid, but not the amount asked: the trade stays open (no second trade while the
            # channel holds the rider's money) and the debts stand until an operator looks.
            state = "pending" if status.state is not ChannelState.PAID else "amount_mismatch"
            owed = sum(d.amount_fen for d in self.arrears.outstanding(token))
            return DebtPaymentOutcome(state, token, owed, payment.payment_no, payment.amount_fen)
        self.store.save_payment(replace(payment, state="closed"))
        return None
