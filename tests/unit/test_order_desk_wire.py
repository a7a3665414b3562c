"""What the order desk sends back crosses a process boundary by pickle: a refusal keeps its class,
field, reason, message, status and extras (errors whose own ``__init__`` takes other arguments
than the message too)."""

from __future__ import annotations

import pickle

from open12306.bootstrap.order_desk import NotAdmitted, _unwire, _wire
from open12306.sales.services.intake import IntakeBusy, QueueExceedsSeats
from open12306.shared.errors import DomainError


def _across(error: DomainError) -> DomainError:
    back = _unwire(pickle.loads(pickle.dumps(_wire(error))))
    assert isinstance(back, DomainError)
    return back


def test_a_refusal_with_its_own_init_keeps_everything() -> None:
    back = _across(QueueExceedsSeats(12, 3))
    assert type(back) is QueueExceedsSeats
    assert back.to_dict() == QueueExceedsSeats(12, 3).to_dict()
    assert back.status == 409 and str(back) == str(QueueExceedsSeats(12, 3))


def test_a_shed_submission_keeps_its_retry_after_header() -> None:
    back = _across(IntakeBusy(4))
    assert isinstance(back, IntakeBusy)
    assert back.headers == {"Retry-After": "4"} and back.to_dict()["retry_after"] == 4


def test_plain_rule_errors_and_a_failed_batch() -> None:
    rule = _across(DomainError("account", "too_many_unpaid", "pay first"))
    assert (rule.field, rule.reason, rule.message, rule.status) == (
        "account",
        "too_many_unpaid",
        "pay first",
        400,
    )
    failed = _across(NotAdmitted("database down"))
    assert failed.status == 503 and failed.reason == "not_admitted"
