"""What a ticket sold on board costs: the fare, the on-board fee and, for a ride found to go
beyond its ticket, a surcharge (加收票款).

Rules and where they come from (docs/onboard.md keeps the full notes):

* **On-board fee (补票手续费).** The 《铁路旅客运输规程》 has tickets sold on the train carry a
  handling fee; we could not confirm today's amount from a primary source, so
  ``onboard_fee_fen`` is our configurable default of 2.00 yuan per ticket, not a fact.
* **Surcharge for riding beyond the ticket.** China Railway's statement of 2019-05-05 on
  "买短乘长" says that a passenger who rides past the destination without buying the extra
  section first pays, under the 规程, that section's fare *plus 50 % of the fare due for the
  section already ridden* (加收已乘区间应补票价50%的票款). ``surcharge_basis_points`` (5000)
  is that 50 %, applied to the section from the ticket's destination to where the passenger
  was found. That ridden section's own fare is due as well (``ridden_fen``); the section still
  ahead is a new ticket at the plain fare. The two sections are priced separately, which can
  cost a little more than one through fare (fares taper with distance): a simplification.

All amounts are integer fen; the surcharge is rounded half up to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass

from open12306.shared.errors import DomainError

BASIS = 10_000


@dataclass(frozen=True, slots=True)
class OnboardFees:
    """The tunable parts of an on-board price (see the module doc for the defaults)."""

    onboard_fee_fen: int = 200
    surcharge_basis_points: int = 5_000

    def __post_init__(self) -> None:
        if isinstance(self.onboard_fee_fen, bool) or self.onboard_fee_fen < 0:
            raise DomainError("onboard_fee_fen", "invalid", "the fee is a non-negative fen sum")
        if not 0 <= self.surcharge_basis_points <= BASIS:
            raise DomainError(
                "surcharge_basis_points", "invalid", "the surcharge is 0 to 10000 basis points"
            )


@dataclass(frozen=True, slots=True)
class OnboardPrice:
    """The parts of an on-board charge. ``fare_fen`` is the new ticket's fare; the fee, the
    fare of a section ridden without a ticket (``ridden_fen``) and the surcharge on it have no
    ticket of their own and are booked as fees."""

    fare_fen: int
    fee_fen: int
    ridden_fen: int = 0
    surcharge_fen: int = 0

    @property
    def extras_fen(self) -> int:
        """Everything beyond the ticket's fare."""
        return self.fee_fen + self.ridden_fen + self.surcharge_fen

    @property
    def total_fen(self) -> int:
        return self.fare_fen + self.extras_fen


def _check_fare(name: str, fen: int) -> None:
    if isinstance(fen, bool) or fen < 0:
        raise DomainError(name, "invalid", f"{name}: a non-negative fen sum")


def supplementary_price(fare_fen: int, fees: OnboardFees) -> OnboardPrice:
    """A ticket bought on board (补票, or an extension asked for in time): fare + fee."""
    _check_fare("fare_fen", fare_fen)
    if fare_fen == 0:
        raise DomainError("fare_fen", "not_positive", "a ticket costs something")
    return OnboardPrice(fare_fen, fees.onboard_fee_fen)


def surcharge(ridden_fare_fen: int, fees: OnboardFees) -> int:
    """The surcharge on the fare due for a section already ridden without a ticket."""
    _check_fare("ridden_fare_fen", ridden_fare_fen)
    return (ridden_fare_fen * fees.surcharge_basis_points + BASIS // 2) // BASIS


def undeclared_ride_price(fare_fen: int, ridden_fare_fen: int, fees: OnboardFees) -> OnboardPrice:
    """A ride found past its ticket's destination: the new ticket's fare (``fare_fen``, from
    here on), the fee, the fare of the section ridden beyond the ticket and the surcharge on
    that section."""
    price = supplementary_price(fare_fen, fees)
    extra = surcharge(ridden_fare_fen, fees)
    return OnboardPrice(price.fare_fen, price.fee_fen, ridden_fare_fen, extra)
