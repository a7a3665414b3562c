"""Tickets by state over service dates, for gate bundles (``travel.services.gate_bundles``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from open12306.sales.adapters.orders_repo import read_orders
from open12306.sales.adapters.tables import order_tickets, orders
from open12306.sales.ports import OrderRecord

REVOKED_STATES = ("refunded", "changed")


class SqlGateTickets:
    """The ``GateTicketSource`` port on the orders tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def revoked_ticket_numbers(self, first: date, last: date) -> list[str]:
        query = (
            select(order_tickets.c.ticket_number)
            .where(
                order_tickets.c.state.in_(REVOKED_STATES),
                order_tickets.c.service_date.between(first, last),
                order_tickets.c.ticket_number.is_not(None),
            )
            .distinct()
        )
        with self.engine.connect() as conn:
            return sorted(str(n) for (n,) in conn.execute(query))

    def orders_with_issued_tickets(self, first: date, last: date) -> list[OrderRecord]:
        holding = (
            select(order_tickets.c.order_number)
            .where(
                order_tickets.c.state == "issued",
                order_tickets.c.service_date.between(first, last),
            )
            .distinct()
        )
        query = (
            select(orders.c.number, orders.c.body, orders.c.idempotency_key, orders.c.version)
            .where(orders.c.number.in_(holding))
            .order_by(orders.c.number)
        )
        with self.engine.connect() as conn:
            return read_orders(conn, query)

    def order_of_ticket(self, ticket_no: str) -> str | None:
        """The number of the order holding ticket ``ticket_no``, or None."""
        query = select(order_tickets.c.order_number).where(
            order_tickets.c.ticket_number == ticket_no
        )
        with self.engine.connect() as conn:
            found = conn.execute(query.limit(1)).scalar_one_or_none()
        return None if found is None else str(found)
