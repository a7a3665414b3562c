"""A reduced booking benchmark: its figures, every hot request answered, none oversold."""

from __future__ import annotations

from open12306.bench.booking import run


def test_reduced_booking_bench_answers_every_request_and_oversells_nothing() -> None:
    figures = run(
        seconds=0.5,
        rounds=1,
        riders_per_round=40,
        connections=8,
        hot_runs=1,
        hot_class="business",
        hot_factor=2,
        postgres=False,
    )
    sqlite = figures["sqlite"]
    assert figures["postgres"] is None
    for key in (
        "tickets_per_s",
        "floor_batched_insert_tickets_per_s",
        "ratio_vs_floor",
        "spread_outcomes",
        "hot",
    ):
        assert key in sqlite
    assert sqlite["tickets_per_s"] > 0 and sqlite["floor_batched_insert_tickets_per_s"] > 0
    hot = sqlite["hot"]
    assert hot["requests"] == 2 * 18  # emu-8 has 18 business seats
    assert hot["answered"] == hot["requests"] and hot["unanswered"] == 0
    assert hot["oversold"] == 0
    # past the seats left, the queue refuses up front (排队人数已超过余票)
    assert set(hot["outcomes"]) <= {"held", "failed:sold_out", "rejected:queue_exceeds_seats"}
    (audit,) = hot["audit"].values()
    assert audit["held_seat_segments"] == audit["inventory_sold_seat_segments"]
    assert audit["held_seat_segments"] <= audit["capacity_seat_segments"]
    assert "held" in hot["outcomes"]
