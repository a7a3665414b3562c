"""The order services pick a payment provider by channel name and call the port: no branch on
a channel's name is left in them (what a provider does is its ``PaymentFlow``)."""

from __future__ import annotations

import ast
from pathlib import Path

import open12306.sales.services as services

CHANNEL_NAMES = {"credit", "counter", "alipay", "wechatpay"}
CHANNEL_CONSTANTS = {"CREDIT", "COUNTER"}


def _is_channel(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return "channel" in node.id
    if isinstance(node, ast.Attribute):
        return "channel" in node.attr
    return False


def _is_channel_name(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in CHANNEL_NAMES
    if isinstance(node, ast.Name):
        return node.id in CHANNEL_CONSTANTS
    # the channel a counter rides on, named by a setting
    return isinstance(node, ast.Attribute) and node.attr == "counter_channel"


def channel_branches(source: str) -> list[int]:
    """Lines comparing a channel with a channel's name (``channel == CREDIT``, …)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        if any(_is_channel(s) for s in sides) and any(_is_channel_name(s) for s in sides):
            found.append(node.lineno)
    return found


def test_the_detector_sees_a_branch_on_a_channel_name() -> None:
    assert channel_branches("if channel == CREDIT:\n    pass\n") == [1]
    assert channel_branches("x = change.channel != 'counter'\n") == [1]
    assert channel_branches("if channel == self.counter_channel:\n    pass\n") == [1]
    assert channel_branches("if provider.flow is PaymentFlow.AT_ONCE:\n    pass\n") == []


def test_no_sales_service_branches_on_a_channel_name() -> None:
    folder = Path(services.__file__).parent
    branches = {
        path.name: lines
        for path in sorted(folder.glob("*.py"))
        if (lines := channel_branches(path.read_text(encoding="utf-8")))
    }
    assert branches == {}
