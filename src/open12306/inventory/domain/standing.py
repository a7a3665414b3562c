"""Standing room (无座): a per-segment capacity sold under a seated class once it is full."""

from __future__ import annotations

from open12306.shared.errors import DomainError


class StandingPool:
    """Standing capacity of one seated class on one run.

    ``held`` counts the standing places sold per stop pair, so a refund can be checked to be
    something that was sold; ``sold`` is the per-segment sum it implies.
    """

    __slots__ = ("capacity", "held", "segments", "sold")

    def __init__(self, capacity: int, segments: int) -> None:
        if capacity < 0:
            raise DomainError("standing", "negative", "standing capacity is >= 0")
        self.capacity = capacity
        self.segments = segments
        self.sold = [0] * segments
        self.held: dict[tuple[int, int], int] = {}

    def copy(self) -> StandingPool:
        twin = StandingPool(self.capacity, self.segments)
        twin.sold = self.sold.copy()
        twin.held = self.held.copy()
        return twin

    def free(self, i: int, j: int) -> int:
        """Places still free on every segment of i..j-1."""
        return self.capacity - max(self.sold[i:j])

    def take(self, i: int, j: int, party: int) -> None:
        if self.free(i, j) < party:
            raise DomainError(
                "standing", "over_capacity", f"no standing room for {party} on {i}-{j}"
            )
        for s in range(i, j):
            self.sold[s] += party
        self.held[i, j] = self.held.get((i, j), 0) + party

    def holds(self, i: int, j: int, party: int) -> bool:
        return self.held.get((i, j), 0) >= party

    def give_back(self, i: int, j: int, party: int) -> None:
        if not self.holds(i, j, party):
            raise DomainError("allocation", "not_held", f"{party} standing on {i}-{j} not held")
        left = self.held[i, j] - party
        if left:
            self.held[i, j] = left
        else:
            del self.held[i, j]
        for s in range(i, j):
            self.sold[s] -= party

    def check(self, name: str) -> list[str]:
        """Invariant breaches: per-segment sold must match the pieces held and fit capacity."""
        problems: list[str] = []
        recount = [0] * self.segments
        for (i, j), n in self.held.items():
            if n <= 0 or not 0 <= i < j <= self.segments:
                problems.append(f"standing {name}: bad holding {n} on {i}-{j}")
                continue
            for s in range(i, j):
                recount[s] += n
        if recount != self.sold:
            problems.append(f"standing {name}: per-segment sold {self.sold} != held {recount}")
        for s, n in enumerate(recount):
            if n > self.capacity:
                problems.append(f"standing {name}: segment {s} sold {n} > capacity {self.capacity}")
        return problems
