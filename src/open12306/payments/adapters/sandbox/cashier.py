"""The cashier pages: one self-contained HTML page per trade with Pay and Cancel."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

# Buyer-paid Huabei instalment fees as Alipay publishes them for 花呗分期 (3/6/12 periods).
HUABEI_BUYER_FEE_PERCENT = {"3": "2.3", "6": "4.5", "12": "7.5"}

_STYLE = (
    "body{font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}"
    "h1{font-size:1.3rem}.amount{font-size:2rem;margin:.5rem 0}"
    "table{border-collapse:collapse;width:100%}td{padding:.25rem 0;border-bottom:1px solid #ddd}"
    "form{display:inline-block;margin:1rem .5rem 0 0}button{font-size:1.1rem;padding:.5rem 1.5rem}"
    ".note{color:#666;font-size:.85rem}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def cashier_page(
    *,
    brand: str,
    title: str,
    amount_yuan: str,
    details: Sequence[tuple[str, str]],
    pay_action: str,
    cancel_action: str,
    pay_label: str = "Pay",
) -> str:
    """A cashier for one open trade. Pay and Cancel are plain form POSTs (no script)."""
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(value)}</td></tr>" for name, value in details
    )
    body = (
        f"<h1>{escape(brand)} — sandbox cashier</h1>"
        f'<p>{escape(title)}</p><p class="amount">¥{escape(amount_yuan)}</p>'
        f"<table>{rows}</table>"
        f'<form method="post" action="{escape(pay_action)}" id="pay">'
        f'<button type="submit" name="action" value="pay">{escape(pay_label)}</button></form>'
        f'<form method="post" action="{escape(cancel_action)}" id="cancel">'
        '<button type="submit" name="action" value="cancel">Cancel</button></form>'
        '<p class="note">This is a protocol sandbox: no money moves.</p>'
    )
    return _page(f"{brand} cashier", body)


def message_page(title: str, message: str) -> str:
    return _page(title, f"<h1>{escape(title)}</h1><p>{escape(message)}</p>")


def huabei_rows(
    hb_fq_num: str | None, seller_percent: str | None, total_fen: int
) -> list[tuple[str, str]]:
    """The instalment plan lines shown on the Alipay cashier."""
    if hb_fq_num is None:
        return []
    periods = int(hb_fq_num)
    per_period = total_fen // periods
    payer = "merchant" if seller_percent == "100" else "buyer"
    fee = HUABEI_BUYER_FEE_PERCENT[hb_fq_num]
    return [
        ("Huabei instalments", f"{periods} × ¥{per_period // 100}.{per_period % 100:02d}"),
        ("Instalment fee", f"{fee}% paid by the {payer}"),
    ]


def paycode_page(auth_code: str, buyer_id: str, expires: str, needs_password: bool) -> str:
    """A sandbox buyer's payment code (付款码) as the app shows it, for a cashier to scan
    or type in; reloading the page shows a fresh code (the old one stops working)."""
    grouped = " ".join(auth_code[i : i + 4] for i in range(0, len(auth_code), 4))
    confirm = "asks for the password (10003)" if needs_password else "pays at once"
    body = (
        "<h1>Alipay — sandbox payment code</h1>"
        f'<p class="amount" id="auth-code" data-code="{escape(auth_code)}">{escape(grouped)}</p>'
        f"<table><tr><td>Buyer</td><td>{escape(buyer_id)}</td></tr>"
        f"<tr><td>Valid until</td><td>{escape(expires)}</td></tr>"
        f"<tr><td>Scanning it</td><td>{escape(confirm)}</td></tr></table>"
        '<p class="note">Pays once. This is a protocol sandbox: no money moves.</p>'
    )
    return _page("Alipay payment code", body)
