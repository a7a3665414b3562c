"""Changing a paid ticket (改签) and changing its destination (变更到站).

A ticket may be changed once, to another run, date or class between the same two places
(stations of the same city count as the same place, as on 12306), or, keeping its train, date
and boarding station, to another alighting station. Either way, in one transaction:

1. the new seat is allocated on the new run's inventory, *then* the old seat is released
   (on the same inventory object when the run does not change), so a rider is never left
   without a seat: a full target changes nothing (``sold_out``);
2. the old ticket becomes ``changed`` and a new ticket, one generation on, is issued;
3. a dearer ticket's difference is charged to the account's credit line (``credit``, a
   provider that pays at once), a cheaper one's difference is refunded less the ladder fee on
   it (``sales.domain.refunds``);
4. the ledger entries, the order (version-checked) and both inventories (version-checked)
   are written together, or nothing is.

A dearer change may instead be paid through a channel (``alipay``, ``wechatpay``, ``counter``):
the new seat is then *held* (written to the new run's inventory with a ``ChangePayment`` in
``pending``, in one transaction) and the channel prompt returned; the change completes (old seat
released, old ticket ``changed``, new ticket issued, payment in the ledger) when the payment is
confirmed (``confirm_change``, idempotent like order payments). If no payment comes by the
deadline, ``expire_changes`` releases the held seat and the old ticket stays valid; money that
still arrives, or arrives for a ticket that can no longer change, is refunded whole.

The new trip goes through the sale rules again (sales closing, pre-sale window, overlapping
trips, without the ticket being changed) and the change window of ``check_change_window``.
The refund of a cheaper change then goes back through the trades that paid the order
(``Settlement.send_refund``). A completed change trade is one of the order's trades
(``change_trades``): refunding the changed ticket later draws on it first.

The service is a facade over its parts, each a module of its own: ``change_planning`` (the new
trip, checked and priced), ``change_apply`` (the transaction) and ``change_payments`` (a dearer
change paid through a channel, its confirmation and expiry); ``change_model`` holds the types.

Every refusal is a DomainError with a stable reason: ``already_changed``, ``sold_out``,
``change_too_late``, ``departed``, ``not_same_route``, ``same_trip``, ``same_destination``,
``credit_limit``, ``overlapping_trip``, ``departure_too_close``, ``not_on_sale_yet``,
``bad_state``, ``change_pending`` (a change of the ticket awaits its payment),
``channel_not_supported``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from open12306.accounts.ports import Account
from open12306.inventory.domain import Allocation
from open12306.inventory.domain.seats import SeatClass
from open12306.payments.ports import PaymentOptions, PaymentProvider
from open12306.payments.services.channels import PaymentChannels
from open12306.payments.services.credit import CreditLineProvider
from open12306.sales.domain import DEFAULT_SALE_RULES, SaleRules, Ticket
from open12306.sales.domain.refund_split import Trade
from open12306.sales.domain.refunds import DEFAULT_LADDER, RefundLadder
from open12306.sales.ports import ChangeBook, ChangePayment, ChangePaymentState, OrderRecord
from open12306.sales.services.allocator import Allocator
from open12306.sales.services.change_apply import ChangeApplication
from open12306.sales.services.change_model import (
    ChangeOffer,
    ChangeRefused,
    ChangeRequest,
    ChangeResult,
    ChangeStore,
    PendingChange,
)
from open12306.sales.services.change_payments import ChangePayments
from open12306.sales.services.change_planning import ChangePlanning
from open12306.sales.services.checkout import Outcome, Settlement
from open12306.sales.services.orders import OrderService
from open12306.shared.clock import Clock

__all__ = [
    "DEFAULT_CREDIT_LIMIT_FEN",
    "ChangeBook",
    "ChangeOffer",
    "ChangePayment",
    "ChangePaymentState",
    "ChangeRefused",
    "ChangeRequest",
    "ChangeResult",
    "ChangeService",
    "ChangeStore",
    "PendingChange",
]
DEFAULT_CREDIT_LIMIT_FEN = 200_000


class ChangeService:
    """Changes tickets of paid orders (see the module doc): the published facade over the
    planning, the transaction and the channel payments of a change."""

    def __init__(
        self,
        store: ChangeStore,
        orders: OrderService,
        allocator: Allocator,
        clock: Clock,
        providers: Mapping[str, PaymentProvider],
        *,
        ladder: RefundLadder = DEFAULT_LADDER,
        rules: SaleRules = DEFAULT_SALE_RULES,
        credit_limit_fen: int = DEFAULT_CREDIT_LIMIT_FEN,
        conflict: type[Exception] = Exception,
        retries: int = 20,
        settlement: Settlement | None = None,
        book: ChangeBook | None = None,
    ) -> None:
        self.store = store
        self.orders = orders
        self.allocator = allocator
        self.clock = clock
        self.providers = providers
        self.ladder = ladder
        self.rules = rules
        self.credit_limit_fen = credit_limit_fen
        self.conflict = conflict
        self.retries = retries
        self.settlement = settlement
        self.book = book
        # the settlement's channels (or these providers), with a credit line on this limit
        credit = CreditLineProvider(
            lambda account_id: self.store.credit_used(account_id), lambda: self.credit_limit_fen
        )
        channels = (
            PaymentChannels(providers, credit)
            if settlement is None
            else settlement.payment_channels.with_credit(credit)
        )
        self.payment_channels = channels
        self._planning = ChangePlanning(self)
        self._paying = ChangePayments(self)
        self._applying = ChangeApplication(self, self._planning, self._paying)
        if settlement is not None and book is not None:
            settlement.trade_handlers.append(self.confirm_change)
            settlement.trade_sources.append(self.change_trades)

    @classmethod
    def from_settlement(
        cls, settlement: Settlement, book: ChangeBook | None = None
    ) -> ChangeService:
        """A change service sharing the settlement's store, services, channels and limits;
        with ``book``, dearer changes can be paid through the settlement's channels (the
        settlement then hands it the notifications of change payments)."""
        if not hasattr(settlement.store, "write_runs"):
            raise TypeError("the orders store cannot write several runs in one transaction")
        return cls(
            cast(ChangeStore, settlement.store),
            settlement.orders,
            settlement.allocator,
            settlement.clock,
            settlement.providers,
            ladder=settlement.ladder,
            rules=settlement.orders.rules,
            credit_limit_fen=settlement.credit_limit_fen,
            conflict=settlement.conflict,
            retries=settlement.retries,
            settlement=settlement,
            book=book,
        )

    # --- entry points ----------------------------------------------------------------------

    def change(
        self,
        account: Account,
        number: str,
        ticket_number: str,
        request: ChangeRequest,
        channel: str | None = None,
        options: PaymentOptions | None = None,
    ) -> ChangeResult | PendingChange:
        """Change one issued ticket of the account's paid order to ``request`` (改签); a
        dearer one is paid through ``channel`` (default: the channel that paid the order;
        pending until paid unless ``credit``)."""
        record, ticket, trip = self._planning.change_target(account, number, ticket_number, request)
        return self._applying.apply(
            account, record, ticket, trip, self.channel_for(number, channel), options
        )

    def change_destination(
        self,
        account: Account,
        number: str,
        ticket_number: str,
        to_station: str,
        seat_class: SeatClass | None = None,
        channel: str | None = None,
        options: PaymentOptions | None = None,
    ) -> ChangeResult | PendingChange:
        """Change where one issued ticket ends (变更到站): same train, date and boarding
        station; another alighting station, and the class kept unless one is given."""
        record, ticket, trip = self._planning.destination_target(
            account, number, ticket_number, to_station, seat_class
        )
        return self._applying.apply(
            account, record, ticket, trip, self.channel_for(number, channel), options
        )

    def quote(
        self, account: Account, number: str, ticket_number: str, request: ChangeRequest
    ) -> ChangeOffer:
        """What changing the ticket to ``request`` would cost, before the rider confirms:
        the new fare, the difference to pay or to get back (less the fee), and the channel a
        difference is paid through by default. Nothing is taken or held."""
        record, ticket, trip = self._planning.change_target(account, number, ticket_number, request)
        return self._planning.offer(record, ticket, trip)

    def quote_destination(
        self,
        account: Account,
        number: str,
        ticket_number: str,
        to_station: str,
        seat_class: SeatClass | None = None,
    ) -> ChangeOffer:
        """``quote`` for a change of destination (变更到站)."""
        record, ticket, trip = self._planning.destination_target(
            account, number, ticket_number, to_station, seat_class
        )
        return self._planning.offer(record, ticket, trip)

    def channel_for(self, number: str, channel: str | None) -> str:
        """The channel a dearer change of order ``number`` is paid through: the one asked
        for, else the one that paid the order (the credit line when nothing else did)."""
        return self._planning.channel_for(number, channel)

    def channels(self) -> list[str]:
        """Channels a difference can be paid through here."""
        return self._planning.channels()

    def allocation_of(self, record: OrderRecord, ticket: Ticket) -> Allocation:
        """What ``ticket`` holds in its run's inventory (see ``ticket_hold``)."""
        return self._planning.allocation_of(record, ticket)

    # --- dearer changes paid through a channel ---------------------------------------------

    def confirm_change(
        self, channel: str, trade_id: str, amount_fen: int, trade_no: str
    ) -> Outcome | None:
        """Apply a channel's payment for a change (None when ``trade_id`` is no change's);
        idempotent: a change completes once, money for one that cannot is refunded whole."""
        return self._paying.confirm_change(channel, trade_id, amount_fen, trade_no)

    def expire_changes(self, limit: int = 100) -> int:
        """Release the seats of change payments past their deadline (the sweeper); the old
        tickets stay valid. How many were expired."""
        return self._paying.expire_changes(limit)

    def change_trades(self, order_number: str) -> list[Trade]:
        """The channel trades that paid completed changes of the order (refunded from, later,
        like the order's own trade)."""
        return self._paying.change_trades(order_number)
