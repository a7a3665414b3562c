"""On the train: the conductor's segment manifest, handheld ticket checks, on-board prices."""

from open12306.travel.domain.onboard.check import (
    OnboardCheck,
    OnboardReason,
    RunManifest,
    check_on_board,
    check_scanned,
    read_ticket,
)
from open12306.travel.domain.onboard.extension import (
    SalePlan,
    plan_extension,
    plan_supplementary,
)
from open12306.travel.domain.onboard.fees import (
    OnboardFees,
    OnboardPrice,
    supplementary_price,
    surcharge,
    undeclared_ride_price,
)
from open12306.travel.domain.onboard.manifest import (
    CoachVacancy,
    Occupant,
    RideTicket,
    SegmentManifest,
    Unprocessable,
    build_segment_manifest,
    compact_runs,
    covers,
    mask_passenger_name,
    segment_leaving,
)
from open12306.travel.domain.onboard.staff import (
    StaffMember,
    StaffRole,
    find_staff,
    parse_staff_tokens,
    token_line,
)
from open12306.travel.domain.onboard.window import OutsideWindow, SaleWindow

__all__ = [
    "CoachVacancy",
    "Occupant",
    "OnboardCheck",
    "OnboardFees",
    "OnboardPrice",
    "OnboardReason",
    "OutsideWindow",
    "RideTicket",
    "RunManifest",
    "SalePlan",
    "SaleWindow",
    "SegmentManifest",
    "StaffMember",
    "StaffRole",
    "Unprocessable",
    "build_segment_manifest",
    "check_on_board",
    "check_scanned",
    "compact_runs",
    "covers",
    "find_staff",
    "mask_passenger_name",
    "parse_staff_tokens",
    "plan_extension",
    "plan_supplementary",
    "read_ticket",
    "segment_leaving",
    "supplementary_price",
    "surcharge",
    "token_line",
    "undeclared_ride_price",
]
