"""Check-in gates: stable per station and train, spread over both halls and every gate."""

from open12306.catalog.domain.checkin import GATES_PER_HALL, checkin_gate


def test_the_gate_is_stable_and_well_formed() -> None:
    gate = checkin_gate("VNP", "G1")
    assert gate == checkin_gate("vnp", "g1")
    assert gate[0] in "AB" and 1 <= int(gate[1:]) <= GATES_PER_HALL


def test_a_station_s_trains_use_both_halls_and_all_gates() -> None:
    gates = {checkin_gate("VNP", f"G{n}") for n in range(1, 400)}
    assert len(gates) == 2 * GATES_PER_HALL
