"""Random sales and refunds against an independent model of every seat and standing place.

The model keeps, per seat, the list of (i, j) pieces sold, and per standing pool the pieces
held; it never looks inside the inventory. After every step: no seat is sold twice on an
overlapping segment, counts equal a brute-force recount, quotas hold until released, a
refused request changed nothing, and ``check()`` finds nothing.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from open12306.inventory.domain import (
    Allocation,
    Quota,
    Request,
    RunInventory,
    SoldOut,
    Strategy,
)
from open12306.inventory.domain.seats import CLASS_ORDER, Berth, Seat, SeatClass
from open12306.shared.errors import DomainError

BUSINESS, SECOND, SLEEPER = SeatClass.BUSINESS, SeatClass.SECOND, SeatClass.HARD_SLEEPER
STANDING = SeatClass.STANDING
SEATED = (BUSINESS, SECOND, SLEEPER)
BERTHS = (Berth.LOWER, Berth.MIDDLE, Berth.UPPER)


def composition() -> list[Seat]:
    """1 business coach (1 row, A C F), 2 second coaches (2 rows, A D F), 1 sleeper (2 x 3).

    Small on purpose, so that random sales fill classes and standing room in a few steps.
    """
    seats: list[Seat] = []

    def add(
        coach: int, seat_class: SeatClass, row: int, letter: str | None, berth: Berth | None
    ) -> None:
        seats.append(
            Seat(len(seats), coach, seat_class, f"{coach}-{len(seats)}", row, letter, berth)
        )

    for letter in "ACF":
        add(1, BUSINESS, 1, letter, None)
    for coach in (2, 3):
        for row in (1, 2):
            for letter in "ADF":
                add(coach, SECOND, row, letter, None)
    for row in (1, 2):
        for berth in BERTHS:
            add(4, SLEEPER, row, None, berth)
    return seats


SEATS = composition()


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


class InventoryMachine(RuleBasedStateMachine):
    @initialize(
        segments=st.integers(1, 7),
        strategy=st.sampled_from(list(Strategy)),
        second_standing=st.integers(0, 4),
        sleeper_standing=st.one_of(st.none(), st.integers(0, 2)),
        long_quota=st.one_of(st.none(), st.integers(1, 4)),
        origin_quota=st.booleans(),
        release=st.integers(0, 300),
    )
    def setup(
        self,
        segments: int,
        strategy: Strategy,
        second_standing: int,
        sleeper_standing: int | None,
        long_quota: int | None,
        origin_quota: bool,
        release: int,
    ) -> None:
        self.segments = segments
        self.standing = {SECOND: second_standing}
        if sleeper_standing is not None:
            self.standing[SLEEPER] = sleeper_standing
        quotas = []
        if long_quota is not None:
            quotas.append(
                Quota(
                    SECOND,
                    count=4,
                    min_segments=long_quota,
                    release_minutes_before_departure=release,
                )
            )
        if origin_quota:
            quotas.append(Quota(SLEEPER, seats=(18, 19, 20), origins=frozenset({0})))
        self.quotas = quotas
        self.inventory = RunInventory.empty(SEATS, segments, self.standing, quotas, strategy)
        self.strategy = strategy
        self.quota_of: dict[int, Quota] = {}
        second = [s.index for s in SEATS if s.seat_class is SECOND]
        for quota in quotas:
            for seat in quota.seats or second[-quota.count :]:
                self.quota_of[seat] = quota
        self.pieces: dict[int, list[tuple[int, int]]] = {s.index: [] for s in SEATS}
        self.standing_held: dict[SeatClass, list[tuple[int, int, int]]] = {
            c: [] for c in self.standing
        }
        self.held: list[Allocation] = []

    # --- the model ----------------------------------------------------------------------

    def free_in_model(self, seat: int, i: int, j: int) -> bool:
        return not any(overlaps(p, (i, j)) for p in self.pieces[seat])

    def eligible(self, seat_class: SeatClass, i: int, j: int, minutes: int | None) -> list[int]:
        return [
            s.index
            for s in SEATS
            if s.seat_class is seat_class
            and self.free_in_model(s.index, i, j)
            and (
                s.index not in self.quota_of
                or self.quota_open(self.quota_of[s.index], i, j, minutes)
            )
        ]

    @staticmethod
    def quota_open(quota: Quota, i: int, j: int, minutes: int | None) -> bool:
        """The quota rule, restated: released at its time, else only qualifying journeys."""
        if minutes is not None and minutes <= quota.release_minutes_before_departure:
            return True
        origin_ok = quota.origins is None or i in quota.origins
        return j - i >= quota.min_segments and origin_ok and quota.destinations is None

    def standing_room(self, seat_class: SeatClass, i: int, j: int) -> int:
        used = [0] * self.segments
        for a, b, n in self.standing_held[seat_class]:
            for s in range(a, b):
                used[s] += n
        return self.standing[seat_class] - max(used[i:j])

    def expected_remaining(self, seat_class: SeatClass, i: int, j: int, minutes: int | None) -> int:
        if seat_class is STANDING:
            return sum(
                self.standing_room(parent, i, j)
                for parent in self.standing
                if not self.eligible(parent, i, j, minutes)
            )
        return len(self.eligible(seat_class, i, j, minutes))

    def gap_length(self, seat: int, i: int, j: int) -> int:
        a, b = 0, self.segments
        for p, q in self.pieces[seat]:
            if q <= i:
                a = max(a, q)
            if p >= j:
                b = min(b, p)
        return b - a

    # --- rules --------------------------------------------------------------------------

    @rule(
        seat_class=st.sampled_from([*SEATED, STANDING]),
        data=st.data(),
        party=st.one_of(st.just(1), st.integers(1, 5)),
        together=st.booleans(),
        allow_standing=st.booleans(),
        minutes=st.one_of(st.none(), st.integers(0, 600)),
        wishes=st.one_of(
            st.just([]), st.lists(st.one_of(st.none(), st.sampled_from("ABCDF")), max_size=5)
        ),
        berth_wishes=st.one_of(
            st.just([]), st.lists(st.one_of(st.none(), st.sampled_from(BERTHS)), max_size=5)
        ),
    )
    def allocate(
        self,
        seat_class: SeatClass,
        data: st.DataObject,
        party: int,
        together: bool,
        allow_standing: bool,
        minutes: int | None,
        wishes: list[str | None],
        berth_wishes: list[Berth | None],
    ) -> None:
        i = data.draw(st.integers(0, self.segments - 1))
        j = data.draw(st.integers(i + 1, self.segments))
        letters = tuple(wishes[:party]) if seat_class in (BUSINESS, SECOND) else ()
        berths = tuple(berth_wishes[:party]) if seat_class is SLEEPER else ()
        request = Request(seat_class, i, j, party, letters, berths, together, allow_standing)
        free = self.eligible(seat_class, i, j, minutes) if seat_class is not STANDING else []
        before = self.inventory.encode()
        try:
            got = self.inventory.allocate(request, minutes)
        except SoldOut:
            assert self.inventory.encode() == before, "a refused request changed the inventory"
            assert len(free) < party, f"refused with {len(free)} seats free for {party}"
            assert self.expected_standing(request, minutes, free) is None
            return
        assert len(got.seats) == party
        assert (got.from_stop, got.to_stop) == (i, j)
        if got.standing_pool is not None:
            assert got.seats == (None,) * party
            assert got.standing_pool == self.expected_standing(request, minutes, free)
            self.standing_held[got.standing_pool].append((i, j, party))
        else:
            assert seat_class is not STANDING and len(free) >= party
            seats = [s for s in got.seats if s is not None]
            assert len(set(seats)) == party
            for seat in seats:
                assert seat in free, f"seat {seat} was not free for this request"
                assert SEATS[seat].seat_class is seat_class
            self.check_choice(request, seats, free)
            for seat in seats:
                assert self.free_in_model(seat, i, j)
                self.pieces[seat].append((i, j))
        self.held.append(got)

    def expected_standing(
        self, request: Request, minutes: int | None, free: list[int]
    ) -> SeatClass | None:
        """The standing pool the request should get, or None."""
        i, j, party = request.from_stop, request.to_stop, request.party
        if request.seat_class is STANDING:
            for parent in CLASS_ORDER:
                if (
                    parent in self.standing
                    and not self.eligible(parent, i, j, minutes)
                    and self.standing_room(parent, i, j) >= party
                ):
                    return parent
            return None
        if len(free) >= party or free or not request.allow_standing:
            return None
        if (
            request.seat_class in self.standing
            and self.standing_room(request.seat_class, i, j) >= party
        ):
            return request.seat_class
        return None

    def check_choice(self, request: Request, seats: list[int], free: list[int]) -> None:
        i, j = request.from_stop, request.to_stop
        wants = request.preferences
        attr = {s: SEATS[s].letter or SEATS[s].berth for s in free}
        if request.party == 1 and wants[0] is None:
            if self.strategy is Strategy.FIRST_FIT:
                assert seats[0] == min(free)
            else:
                best = min(self.gap_length(s, i, j) for s in free)
                assert self.gap_length(seats[0], i, j) == best
        if request.party == 1 and wants[0] is not None and any(attr[s] == wants[0] for s in free):
            assert attr[seats[0]] == wants[0], "a preference that could be met was not"
        if request.party > 1 and request.together:
            rows = {}
            coaches = {}
            for s in free:
                rows.setdefault((SEATS[s].coach, SEATS[s].row), []).append(s)
                coaches.setdefault(SEATS[s].coach, []).append(s)
            placed_rows = {(SEATS[s].coach, SEATS[s].row) for s in seats}
            placed_coaches = {SEATS[s].coach for s in seats}
            if any(len(v) >= request.party for v in rows.values()):
                assert len(placed_rows) == 1, "a party that fits one row was split"
            elif any(len(v) >= request.party for v in coaches.values()):
                assert len(placed_coaches) == 1, "a party that fits one coach was split"
        if request.party > 1 and not request.together:
            met = sum(
                1 for s, w in zip(seats, wants, strict=True) if w is not None and attr[s] == w
            )
            possible = sum(
                min(wants.count(w), sum(1 for s in free if attr[s] == w))
                for w in set(wants)
                if w is not None
            )
            assert met == possible, "fewer preferences met than possible"

    @precondition(lambda self: bool(self.held))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        got = self.held.pop(data.draw(st.integers(0, len(self.held) - 1)))
        self.inventory.release(got)
        if got.standing_pool is not None:
            self.standing_held[got.standing_pool].remove((got.from_stop, got.to_stop, got.party))
        else:
            for seat in got.seats:
                assert seat is not None
                self.pieces[seat].remove((got.from_stop, got.to_stop))

    @rule(seat=st.integers(0, len(SEATS) - 1), data=st.data())
    def release_what_is_not_held(self, seat: int, data: st.DataObject) -> None:
        i = data.draw(st.integers(0, self.segments - 1))
        j = data.draw(st.integers(i + 1, self.segments))
        if (i, j) in self.pieces[seat]:
            return
        before = self.inventory.encode()
        try:
            self.inventory.release(Allocation(SEATS[seat].seat_class, i, j, (seat,)))
        except DomainError as err:
            assert err.reason == "not_held"
        else:
            raise AssertionError("released a piece that was never sold")
        assert self.inventory.encode() == before

    @rule()
    def store_and_reload(self) -> None:
        data = self.inventory.encode()
        self.inventory = RunInventory.decode(data, SEATS, self.standing, self.quotas, self.strategy)
        assert self.inventory.encode() == data

    # --- invariants ---------------------------------------------------------------------

    @invariant()
    def no_seat_sold_twice(self) -> None:
        if not hasattr(self, "inventory"):
            return
        for seat, pieces in self.pieces.items():
            for k, a in enumerate(pieces):
                assert not any(overlaps(a, b) for b in pieces[k + 1 :])
            mask = sum(((1 << (j - i)) - 1) << i for i, j in pieces)
            assert self.inventory.seat_mask(seat) == mask

    @invariant()
    def counts_match_a_recount(self) -> None:
        if not hasattr(self, "inventory"):
            return
        for minutes in (None, 0, 200, 600):
            for seat_class in (*SEATED, STANDING):
                matrix = self.inventory.count_matrix(seat_class, minutes)
                for i in range(self.segments):
                    for j in range(i + 1, self.segments + 1):
                        expected = self.expected_remaining(seat_class, i, j, minutes)
                        assert self.inventory.remaining(seat_class, i, j, minutes) == expected
                        assert matrix[i][j] == expected

    @invariant()
    def check_finds_nothing(self) -> None:
        if hasattr(self, "inventory"):
            assert self.inventory.check() == []


InventoryMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None
)
TestInventoryMachine = InventoryMachine.TestCase
