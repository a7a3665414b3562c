"""Taking money for orders: ``start`` a payment through a channel's provider (the same port
whatever the channel, its ``PaymentFlow`` saying what ``prepare`` does), ``notify`` and
``check`` what the channel says, and ``confirm`` it: one guarded transition, idempotent per
trade; money for an order that cannot take it is booked in and sent back whole."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import datetime

from open12306.accounts.ports import Account
from open12306.payments.ports import (
    NotificationKind,
    PaymentDeclined,
    PaymentError,
    PaymentFlow,
    PaymentOptions,
    PaymentProvider,
    TradeState,
)
from open12306.sales.domain import (
    OrderState,
    is_overdue,
    ledger,
    pay,
)
from open12306.sales.ports import (
    OrderRecord,
    PaymentRecord,
    PaymentRecordState,
)
from open12306.sales.services.checkout_model import (
    Outcome,
    PaymentRefused,
    Prompt,
    SettlementContext,
    SettlementPart,
    code_refusal,
)
from open12306.sales.services.checkout_refunds import SettlementRefunds
from open12306.shared.errors import DomainError, NotFound

log = logging.getLogger("open12306.settlement")
# what the rider is told when a provider declines before any money moved
_DECLINED = {"credit_limit": "the order is above your remaining credit"}
_BOOKED = (PaymentRecordState.SUCCEEDED, PaymentRecordState.RETURNED)


class SettlementPayments(SettlementPart):
    """Payments of orders, from the prompt to the confirmation; money that cannot pay goes
    back through ``refunds``."""

    def __init__(self, context: SettlementContext, refunds: SettlementRefunds) -> None:
        super().__init__(context)
        self.refunds = refunds

    def _provider(self, channel: str) -> PaymentProvider:
        provider = self.context.payment_channels.get(channel)
        if provider is None:
            raise DomainError("channel", "unknown_channel", f"channels: {self.context.channels()}")
        return provider

    def start(
        self, account: Account, number: str, channel: str, options: PaymentOptions | None = None
    ) -> Prompt:
        """Begin paying the account's held order through ``channel``: what to show the rider,
        or the order already paid when the provider took the money at once."""
        record = self.context.orders.get(account, number)
        order = record.order
        if order.state is not OrderState.HELD:
            raise PaymentRefused("order", "not_payable", f"order {number} is {order.state}")
        provider = self._provider(channel)
        if provider.flow is PaymentFlow.PAYMENT_CODE:
            return self._pay_by_code(provider, record, options or PaymentOptions())
        asked = options or PaymentOptions(expires_at=order.pay_deadline)
        payment_id = f"{channel}:{number}"
        try:
            paying = dataclasses.replace(asked, payer=account.id)
            prompt = provider.prepare(number, order.total_fen, _subject(record), paying)
        except PaymentDeclined as declined:
            why = _DECLINED.get(declined.code, declined.message)
            raise PaymentRefused("channel", declined.code, why) from None
        self._record_payment(payment_id, record, channel, None)
        paid = prompt.status
        if paid is not None and paid.state is TradeState.PAID:
            amount = paid.amount_fen or order.total_fen
            outcome = self.confirm(channel, number, amount, paid.trade_no or payment_id)
            return Prompt(channel, payment_id, self._said(payment_id, outcome))
        return Prompt(channel, payment_id, "pending", prompt.redirect_url, prompt.qr_content)

    def _pay_by_code(
        self, provider: PaymentProvider, record: OrderRecord, options: PaymentOptions
    ) -> Prompt:
        """Charge the scanned payment code; paid now, or pending while the buyer confirms."""
        code = (options.auth_code or "").strip()
        if not code.isdigit() or not 16 <= len(code) <= 24:
            raise DomainError(
                "auth_code", "payment_code_malformed", "a payment code is 16 to 24 digits"
            )
        order = record.order
        number = record.number
        payment_id = f"{provider.name}:{number}"
        attempt = self._open_scan(provider, record, self.context.clock.now())
        try:
            scanned = dataclasses.replace(options, auth_code=code)
            prompt = provider.prepare(number, order.total_fen, _subject(record), scanned)
        except PaymentError as exc:
            self._settle_attempt(attempt, state=PaymentRecordState.CLOSED)
            raise code_refusal(exc) from None
        status = prompt.status
        trade_no = "" if status is None else status.trade_no or ""
        if status is None or status.state is not TradeState.PAID:
            # the buyer confirms on the phone; the notification (or a check) may be first
            self._settle_attempt(attempt, trade_no=trade_no)
            return Prompt(provider.name, payment_id, "pending")
        amount = status.amount_fen or order.total_fen
        outcome = self.confirm(provider.name, number, amount, trade_no)
        return Prompt(provider.name, payment_id, self._said(payment_id, outcome))

    def _open_scan(
        self, provider: PaymentProvider, record: OrderRecord, now: datetime
    ) -> PaymentRecord:
        """Record the scan's payment before the channel is called (so its notification is
        the scan's). One scan at a time: while an earlier scan awaits the buyer a new one
        is refused; a refused or vanished earlier scan is replaced (a paid one pays)."""
        number = record.number
        payment_id = f"{provider.name}:{number}"
        known = self.context.store.payment(payment_id)
        if known is not None and known.state is PaymentRecordState.CREATED:
            self._earlier_scan_gone(provider, number)
        elif known is not None and known.state is not PaymentRecordState.CLOSED:
            raise PaymentRefused("order", "not_payable", f"order {number} is already paid")
        fresh = PaymentRecord(
            payment_id,
            number,
            record.order.account,
            provider.name,
            record.order.total_fen,
            PaymentRecordState.CREATED,
            now,
            now,
            stored_as=None if known is None else known.stored_as,
        )
        try:
            return self.context.store.save_payment(fresh)
        except self.context.conflict:
            raise PaymentRefused(
                "order", "payment_in_progress", f"order {number} is being paid at a counter"
            ) from None

    def _earlier_scan_gone(self, provider: PaymentProvider, number: str) -> None:
        """Refuse a new scan while the channel still holds the earlier one open or paid."""
        status = provider.query(number)
        if status.state is TradeState.PAID:
            self.confirm(provider.name, number, status.amount_fen or 0, status.trade_no or "")
            raise PaymentRefused("order", "not_payable", f"order {number} is already paid")
        if status.state is TradeState.PENDING:
            raise PaymentRefused(
                "order",
                "payment_in_progress",
                f"order {number}: the buyer has not confirmed the earlier scan yet",
            )

    def _settle_attempt(
        self,
        attempt: PaymentRecord,
        state: PaymentRecordState = PaymentRecordState.CREATED,
        trade_no: str | None = None,
    ) -> None:
        """Move a counter attempt on from ``created``, unless a confirmation got there first
        (then the stored state stands)."""
        moved = dataclasses.replace(
            attempt,
            state=state,
            provider_trade_no=trade_no or attempt.provider_trade_no,
            updated_at=self.context.clock.now(),
        )
        try:
            self.context.store.save_payment(moved)
        except self.context.conflict:
            log.info("payment %s moved on concurrently; its stored state stands", attempt.id)

    def _said(self, payment_id: str, outcome: Outcome) -> str:
        """What the payer is told: ``paid`` when this payment paid the order, also when the
        channel's notification of it was confirmed first (the confirmation here is then a
        duplicate)."""
        if outcome.result == "duplicate":
            payment = self.context.store.payment(payment_id)
            if payment is not None and payment.state is PaymentRecordState.SUCCEEDED:
                return "paid"
        return outcome.result

    def check(self, account: Account, number: str, channel: str) -> Outcome:
        """Ask the channel about the order's trade and apply what it says (paid or not)."""
        record = self.context.orders.get(account, number)
        provider = self.context.provider_for(channel)
        if provider is None:
            raise DomainError("channel", "unknown_channel", f"channels: {self.context.channels()}")
        status = provider.query(number)
        if status.state is not TradeState.PAID or status.amount_fen is None:
            return Outcome("ignored", record)
        return self.confirm(channel, number, status.amount_fen, status.trade_no or "")

    def _record_payment(
        self, payment_id: str, record: OrderRecord, channel: str, trade_no: str | None
    ) -> None:
        if self.context.store.payment(payment_id) is not None:
            return
        now = self.context.clock.now()
        created = PaymentRecord(
            payment_id,
            record.number,
            record.order.account,
            channel,
            record.order.total_fen,
            PaymentRecordState.CREATED,
            now,
            now,
            trade_no,
        )
        try:
            self.context.store.save_payment(created)
        except self.context.conflict:
            log.info("payment %s recorded concurrently", payment_id)

    def notify(self, channel: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        """Verify and apply a channel notification (raises NotificationRejected if forged)."""
        provider = self.context.providers.get(channel)
        if provider is None:
            raise NotFound("channel", "unknown_channel", f"no channel {channel!r}")
        note = provider.parse_notification(headers, body)
        if note.kind is not NotificationKind.PAYMENT or note.state is not TradeState.PAID:
            return Outcome("ignored")
        for handler in self.context.trade_handlers:
            handled = handler(channel, note.order_no, note.amount_fen, note.trade_no)
            if handled is not None:
                return handled
        return self.confirm(channel, note.order_no, note.amount_fen, note.trade_no)

    def confirm(self, channel: str, number: str, amount_fen: int, trade_no: str) -> Outcome:
        """Apply money received for order ``number``; idempotent per (channel, order)."""
        for _ in range(self.context.retries):
            try:
                return self._confirm_once(channel, number, amount_fen, trade_no)
            except self.context.conflict:
                continue
        raise RuntimeError(f"order {number}: too many concurrent writers")

    def _owner(self, channel: str, number: str) -> str:
        """The channel a confirmation belongs to: Alipay's word on a trade that a counter
        scan opened (pending or in flight) is the counter payment's."""
        for opener in self.context.payment_channels.opened_through(channel):
            opened = self.context.store.payment(f"{opener}:{number}")
            if opened is not None and opened.state is PaymentRecordState.CREATED:
                return opener
        return channel

    def _applied(self, number: str, trade_no: str) -> bool:
        """Whether the channel trade ``trade_no`` was already booked for order ``number``
        (it paid the order, or it was returned)."""
        if not trade_no:
            return False
        return any(
            p.state in _BOOKED and p.provider_trade_no == trade_no
            for p in self.own_payments(number)
        )

    def _confirm_once(self, channel: str, number: str, amount_fen: int, trade_no: str) -> Outcome:
        channel = self._owner(channel, number)
        payment_id = f"{channel}:{number}"
        known = self.context.store.payment(payment_id)
        if known is not None and known.state in _BOOKED:
            if known.provider_trade_no != trade_no and trade_no:
                log.error(
                    "order %s: trade %s arrived while %s already holds trade %s",
                    number,
                    trade_no,
                    payment_id,
                    known.provider_trade_no,
                )
            return Outcome("duplicate", self.context.store.get(number))
        if self._applied(number, trade_no):
            return Outcome("duplicate", self.context.store.get(number))
        record = self.context.store.get(number)
        if record is None:
            log.warning("payment for unknown order %s via %s", number, channel)
            return Outcome("ignored")
        record = self.context.allocator.expire_if_overdue(record)
        now = self.context.clock.now()
        order = record.order
        payable = (
            order.state is OrderState.HELD
            and not is_overdue(order, now)
            and amount_fen == order.total_fen
            and (known is None or known.state is PaymentRecordState.CREATED)
        )
        base = known or PaymentRecord(
            payment_id,
            number,
            order.account,
            channel,
            amount_fen,
            PaymentRecordState.CREATED,
            now,
            now,
        )
        paid_in = ledger.payment(number, amount_fen, now, trade_no)
        if payable:
            # both writes are guarded: the order by its version, the payment by the state it
            # was read in; a concurrent confirmation of the same trade makes this one retry
            paid = dataclasses.replace(record, order=pay(order, amount_fen, now))
            payment = dataclasses.replace(
                base,
                state=PaymentRecordState.SUCCEEDED,
                amount_fen=amount_fen,
                provider_trade_no=trade_no,
                updated_at=now,
            )
            saved, _ = self.context.store.write([paid], now, entries=[paid_in], payments=[payment])
            return Outcome("paid", saved[0])
        return self._return_whole(base, channel, record, amount_fen, trade_no, now)

    def _return_whole(
        self,
        base: PaymentRecord,
        channel: str,
        record: OrderRecord,
        amount_fen: int,
        trade_no: str,
        now: datetime,
    ) -> Outcome:
        """Money for an order that cannot take it: booked in and out, then sent back whole.
        The payment's guarded transition makes a trade returned at most once."""
        number = record.number
        returned = dataclasses.replace(
            base,
            state=PaymentRecordState.RETURNED,
            amount_fen=amount_fen,
            provider_trade_no=trade_no,
            updated_at=now,
        )
        paid_in = ledger.payment(number, amount_fen, now, trade_no)
        back = ledger.refund_of_payment(number, amount_fen, now, trade_no)
        self.context.store.write([], now, entries=[paid_in, back], payments=[returned])
        log.warning(
            "order %s not payable (%s, %s fen): refunding", number, record.order.state, amount_fen
        )
        # one refund number per channel: two late trades of one order are two refunds
        self.refunds.refund_through(
            channel, number, f"{number}R0-{channel}", amount_fen, amount_fen
        )
        return Outcome("refunded", record)


def _subject(record: OrderRecord) -> str:
    trip = record.order.trip
    return f"{trip.train_code} {trip.from_station}-{trip.to_station}"
