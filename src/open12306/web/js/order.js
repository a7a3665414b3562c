// One order: follow it through the queue, pay it, and act on its tickets (QR, refund, change).

import { api, apiImage, query } from "./api.js";
import { boundDateInput, ensureCalendar, operatorZone, serverNow } from "./calendar.js";
import {
  $, announce, badge, CLASS_LABELS, clearErrors, dateTime, el, hhmm, ORDER_STATES, showError,
  TICKET_STATES, yuan,
} from "./dom.js";
import { nameOf, stationNames } from "./stations.js";

let followToken = 0;
let countdown = 0;
let notice = null; // {number, node}: a result kept above the order across re-renders
let lastState = "";

const ANNOUNCE = {
  queued: "订单排队中 Your order is queued…",
  held: "座位已锁定, 请在期限内支付 Seats held — please pay before the deadline",
  paid: "支付成功, 已出票 Paid — tickets issued",
  failed: "订票失败 The order failed",
  expired: "订单已超时 The order expired",
  cancelled: "订单已取消 The order was cancelled",
};
const REASONS = { sold_out: "余票不足 Sold out" };
const QUEUE_POLL = 3; // seconds: a queued order's place is read again this often

/** Where a queued order stands: its place, the passengers ahead and the estimated wait. */
function queueLine(order) {
  const q = order.queue;
  if (!q) return el("p", { id: "queue-place" }, "正在排队分配座位 Waiting in the queue for seats…");
  const wait = q.wait_seconds < 60 ? `${q.wait_seconds} 秒` : `${Math.ceil(q.wait_seconds / 60)} 分钟`;
  const waitEn = q.wait_seconds < 60 ? `${q.wait_seconds} s` : `${Math.ceil(q.wait_seconds / 60)} min`;
  return el("p", { id: "queue-place", class: "queue-place" },
    "排队中: 第 ", el("strong", { text: String(q.position) }), ` 位, 前面 ${q.ahead} 人, 预计等待约 ${wait}`,
    el("br"),
    el("span", { class: "muted" },
      `In the queue: position ${q.position}, ${q.ahead} ahead, about ${waitEn} to wait`));
}

function orderPath(number) { return `/api/v1/orders/${encodeURIComponent(number)}`; }

function ticketPath(order, ticket) {
  return `${orderPath(order.number)}/tickets/${encodeURIComponent(ticket.number)}`;
}

function setNotice(order, ...children) {
  notice = { number: order.number, node: el("div", { class: "card result", role: "status" }, ...children) };
  const slot = $("#order-notice");
  if (slot) slot.replaceChildren(notice.node);
}

function startCountdown(deadline, node) {
  window.clearInterval(countdown);
  const tick = () => {
    const left = Math.max(0, Math.floor((Date.parse(deadline) - serverNow()) / 1000));
    node.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  };
  tick();
  countdown = window.setInterval(tick, 1000);
}

function passengersTable(order) {
  return el("table", { class: "card" },
    el("caption", { class: "muted", text: "乘车人与座位 Passengers and seats" }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "乘车人 Passenger"),
      el("th", { scope: "col" }, "车厢 Coach"), el("th", { scope: "col" }, "座位 Seat"),
      el("th", { scope: "col" }, "票价 Fare"))),
    el("tbody", {}, order.passengers.map((p) => el("tr", {},
      el("td", {}, p.name), el("td", {}, p.coach ? `${p.coach} 车` : "—"),
      el("td", {}, p.seat || "—"), el("td", {}, p.fare_fen === null ? "—" : yuan(p.fare_fen))))));
}

function payBox(order) {
  const box = el("div", { class: "card", id: "pay-box" });
  const errors = el("p", { class: "error", role: "alert", dataset: { errorFor: "" } });
  const clock = el("strong", { id: "pay-countdown" });
  startCountdown(order.pay_deadline, clock);
  const pay = async (channel) => {
    errors.textContent = "";
    const body = channel === "alipay"
      ? { channel, mode: "page", return_url: `${window.location.origin}/?order=${encodeURIComponent(order.number)}` }
      : { channel, mode: "qr" };
    try {
      const prompt = await api("POST", `${orderPath(order.number)}/payments`, { body });
      if (prompt.state === "paid") { showOrder(order.number); return; }
      if (prompt.redirect_url) {
        announce("正在前往支付宝收银台 Going to the Alipay cashier…");
        window.location.assign(prompt.redirect_url);
        return;
      }
      if (prompt.qr_content) {
        const qr = `/web/qr.png?text=${encodeURIComponent(prompt.qr_content)}`;
        box.querySelector("#wechat-qr").replaceChildren(
          el("p", {}, "请用微信扫码支付 Scan with WeChat to pay:"),
          el("div", { class: "qr" }, el("img", { src: qr, alt: "微信支付二维码 WeChat Pay QR code" })),
          el("p", {}, el("a", { href: prompt.qr_content, target: "_blank", rel: "noopener",
            id: "wechat-cashier" }, "在沙箱收银台打开 Open the WeChat Pay sandbox cashier")),
          el("p", { class: "muted" }, "支付后本页自动更新 This page updates once you have paid."));
        announce("请扫码支付 Scan the QR code to pay");
        follow(order, new Set(["queued", "held"]));
      }
    } catch (error) {
      errors.textContent = error.message;
      announce(error.message);
    }
  };
  box.append(
    el("p", {}, `应付 Amount due: `, el("span", { class: "price", text: yuan(order.amount_fen) }),
      ` · 请在 ${hhmm(order.pay_deadline)} 前支付 pay by ${dateTime(order.pay_deadline)} (剩余 left `, clock, ")"),
    el("div", { class: "actions" },
      el("button", { type: "button", onclick: () => pay("alipay") }, "支付宝 Pay with Alipay"),
      el("button", { type: "button", onclick: () => pay("wechatpay") }, "微信支付 Pay with WeChat Pay")),
    errors,
    el("div", { id: "wechat-qr", "aria-live": "polite" }));
  return box;
}

async function showCode(order, ticket, slot) {
  slot.replaceChildren(el("p", { class: "muted" }, "加载中… Loading…"));
  try {
    const [image, info] = await Promise.all([
      apiImage(`${ticketPath(order, ticket)}/code`),
      api("GET", `${ticketPath(order, ticket)}/code?format=bytes`),
    ]);
    const when = (seconds) => new Date(seconds * 1000).toLocaleString("zh-CN", {
      hour12: false, timeZone: operatorZone(), month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit",
    });
    slot.replaceChildren(el("div", { class: "qr card" },
      el("img", { src: image, alt: `电子客票二维码 E-ticket QR code ${ticket.number}` }),
      el("p", {}, `${ticket.number} · ${ticket.train} ${ticket.coach} 车 coach, 座 seat ${ticket.seat}`),
      el("p", {}, `检票口 Gate ${ticket.gate || "—"}, ${nameOf(ticket.from)} · 检票时间 check-in window `
        + `${when(info.valid_from)} – ${when(info.valid_until)}`)));
  } catch (error) {
    slot.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
  }
}

async function refund(order, ticket, slot) {
  const confirmRefund = async () => {
    try {
      const quote = await api("POST", `${ticketPath(order, ticket)}/refund`);
      setNotice(order, el("p", {}, `退票成功 Ticket ${ticket.number} refunded: 票价 fare ${yuan(quote.fare_fen)}, `
        + `手续费 fee ${yuan(quote.fee_fen)}, 退回 returned ${yuan(quote.refund_fen)}`));
      announce(`退票成功, 退回 ${yuan(quote.refund_fen)} — refunded ${yuan(quote.refund_fen)}`);
      showOrder(order.number);
    } catch (error) {
      slot.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
      announce(error.message);
    }
  };
  slot.replaceChildren(el("div", { class: "card" },
    el("p", {}, `确认退掉车票 ${ticket.number}? Refund this ticket? 手续费按开车前时间计算 `
      + "The fee depends on the time left before departure."),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "danger", onclick: confirmRefund }, "确认退票 Confirm refund"),
      el("button", { type: "button", class: "secondary", onclick: () => slot.replaceChildren() },
        "取消 Keep the ticket"))));
}

function changeForm(order, ticket, slot) {
  const form = el("form", { class: "card", novalidate: true },
    el("h4", {}, `改签 Change ${ticket.train} ${ticket.date} (${CLASS_LABELS[ticket.seat_class || order.seat_class] || order.seat_class})`),
    el("div", { class: "field" },
      el("label", { for: `change-date-${ticket.number}` }, "新日期 New date"),
      el("input", { type: "date", name: "date", id: `change-date-${ticket.number}`, value: ticket.date })),
    el("p", { class: "error", dataset: { errorFor: "date" } }),
    el("div", { class: "field" },
      el("label", { for: `change-class-${ticket.number}` }, "席别 Class"),
      el("select", { name: "seat_class", id: `change-class-${ticket.number}` },
        Object.entries(CLASS_LABELS).filter(([code]) => code !== "standing").map(([code, label]) =>
          el("option", { value: code, selected: code === (ticket.seat_class || order.seat_class) }, label)))),
    el("p", { class: "error form-error", role: "alert", dataset: { errorFor: "" } }),
    el("button", { type: "submit" }, "查找车次 Find trains"),
    el("div", { class: "change-trains" }));
  boundDateInput(form.elements.date, ticket.date);
  const list = form.querySelector(".change-trains");
  const changeTo = async (row) => {
    clearErrors(form);
    const target = { train: row.train, date: row.service_date, seat_class: form.elements.seat_class.value,
      from: row.from.code, to: row.to.code };
    try {
      const offer = await api("POST", `${ticketPath(order, ticket)}/change/quote`, { body: target });
      list.replaceChildren(changeOffer(order, ticket, target, offer, form));
      list.querySelector("button.confirm-change").focus();
    } catch (error) {
      showError(form, error);
      announce(error.message);
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      const answer = await api("GET", query("/api/v1/search", {
        from: ticket.from, to: ticket.to, date: form.elements.date.value,
      }));
      const wanted = form.elements.seat_class.value;
      const own = ticket.seat_class || order.seat_class;
      const rows = answer.trains.filter((row) => row.from.code === ticket.from && row.to.code === ticket.to
        && !(row.train === ticket.train && row.service_date === ticket.date && wanted === own)
        && row.classes.some((c) => c.class === wanted && c.remaining > 0));
      list.replaceChildren(rows.length ? el("ul", { class: "plain" }, rows.slice(0, 12).map((row) => {
        const seat = row.classes.find((c) => c.class === wanted);
        return el("li", {}, `${row.train} ${hhmm(row.departs)}–${hhmm(row.arrives)} `,
          el("span", { class: "price", text: `¥${seat.price}` }), ` 余 ${seat.remaining} `,
          el("button", { type: "button", class: "small", onclick: () => changeTo(row),
            "aria-label": `改签到 Change to ${row.train} ${row.service_date}` }, "改签到此车 Change to this"));
      })) : el("p", {}, "没有可改签的车次 No trains with seats in this class."));
    } catch (error) {
      showError(form, error);
    }
  });
  slot.replaceChildren(form);
  form.elements.date.focus();
}

const CHANNEL_LABELS = {
  alipay: "支付宝 Alipay", wechatpay: "微信支付 WeChat Pay", credit: "信用额度 Credit line",
};

/** The priced change: what it costs or returns, how to pay a difference, and Confirm. */
function changeOffer(order, ticket, target, offer, form) {
  const money = offer.pay_fen > 0 ? `需补差价 To pay: ${yuan(offer.pay_fen)}`
    : offer.refund_fen > 0 ? `退回差价 Returned: ${yuan(offer.refund_fen)} (手续费 fee ${yuan(offer.fee_fen)})`
      : "无差价 No difference";
  const channels = offer.channels.filter((c) => CHANNEL_LABELS[c]);
  const choice = offer.pay_fen > 0 ? el("fieldset", { class: "field channel-choice" },
    el("legend", {}, "差价支付方式 Pay the difference with"),
    ...channels.map((c) => el("label", { class: "inline" },
      el("input", { type: "radio", name: `change-channel-${ticket.number}`, value: c,
        checked: c === offer.channel || (!channels.includes(offer.channel) && c === channels[0]) }),
      ` ${CHANNEL_LABELS[c]}${c === offer.channel ? " (原支付方式 as the order was paid)" : ""}`))) : null;
  const slot = el("div", { class: "change-pay", "aria-live": "polite" });
  const confirmChange = async () => {
    clearErrors(form);
    const picked = choice ? choice.querySelector("input:checked") : null;
    const channel = picked ? picked.value : undefined;
    const body = { ...target };
    if (channel) {
      body.channel = channel;
      if (channel === "alipay") {
        body.mode = "page";
        body.return_url = `${window.location.origin}/?order=${encodeURIComponent(order.number)}`
          + `&change=${encodeURIComponent(ticket.number)}`;
      } else if (channel === "wechatpay") {
        body.mode = "qr";
      }
    }
    try {
      const result = await api("POST", `${ticketPath(order, ticket)}/change`, { body });
      if (result.state === "pending_payment") {
        showChangePayment(order, result, slot);
        return;
      }
      changed(order, result);
    } catch (error) {
      showError(form, error);
      announce(error.message);
    }
  };
  return el("div", { class: "card change-offer", role: "group", "aria-label": "改签确认 Confirm the change" },
    el("p", {}, `改签到 Change to ${offer.train} ${offer.date} ${hhmm(offer.departs_at)}–${hhmm(offer.arrives_at)}, `
      + `${nameOf(offer.from)} → ${nameOf(offer.to)}`),
    el("p", {}, `原票价 Old fare ${yuan(offer.old_fare_fen)} · 新票价 New fare ${yuan(offer.new_fare_fen)} · `,
      el("strong", { class: "change-money" }, money)),
    choice,
    el("div", { class: "actions" },
      el("button", { type: "button", class: "confirm-change", onclick: confirmChange }, "确认改签 Confirm the change"),
      el("button", { type: "button", class: "secondary", onclick: () => form.querySelector(".change-trains").replaceChildren() },
        "返回 Back")),
    slot);
}

function changed(order, result) {
  const moved = result.pay_fen > 0 ? `补款 paid extra ${yuan(result.pay_fen)}`
    : result.refund_fen > 0 ? `退回差价 returned ${yuan(result.refund_fen)}` : "无差价 no difference";
  const t = result.ticket;
  setNotice(order, el("p", {}, `改签成功 Changed to ${t.train} ${t.date} ${hhmm(t.departs_at)}, `
    + `${t.coach} 车 ${t.seat} (coach ${t.coach}, seat ${t.seat}), 新票 new ticket ${t.number}. `
    + `新票价 new fare ${yuan(t.fare_fen)}; ${moved}; 手续费 fee ${yuan(result.fee_fen)}`));
  announce(`改签成功 Changed to ${t.train} ${t.date}`);
  showOrder(order.number);
}

/** A dearer change held until its difference is paid: go to the cashier or show the QR. */
function showChangePayment(order, pending, slot) {
  if (pending.redirect_url) {
    announce("正在前往支付宝收银台 Going to the Alipay cashier…");
    window.location.assign(pending.redirect_url);
    return;
  }
  const parts = [el("p", {}, `新座位已保留, 请在 ${hhmm(pending.pay_deadline)} 前支付差价 ${yuan(pending.pay_fen)} `
    + `The new seat is held: pay ${yuan(pending.pay_fen)} by ${dateTime(pending.pay_deadline)}.`)];
  if (pending.qr_content) {
    parts.push(
      el("div", { class: "qr" }, el("img", { src: `/web/qr.png?text=${encodeURIComponent(pending.qr_content)}`,
        alt: "差价支付二维码 QR code to pay the difference" })),
      el("p", {}, el("a", { href: pending.qr_content, target: "_blank", rel: "noopener", id: "change-cashier" },
        "在沙箱收银台打开 Open the sandbox cashier")));
  }
  parts.push(el("button", { type: "button", class: "secondary", onclick: () => showOrder(order.number) },
    "已支付, 刷新 I have paid — refresh"));
  slot.replaceChildren(...parts);
  announce("请支付差价 Please pay the difference");
}

/** Where the seats of a cancelled order stand now: the remaining count of its train and class
 *  for the same stretch and boarding date, or null when search cannot tell. */
async function remainingNow(order) {
  try {
    const answer = await api("GET", query("/api/v1/search", {
      from: order.from, to: order.to, date: dateTime(order.departs_at).slice(0, 10),
    }));
    const row = answer.trains.find((r) => r.train === order.train && r.service_date === order.date
      && r.from.code === order.from && r.to.code === order.to);
    const seat = row && row.classes.find((c) => c.class === order.seat_class);
    return seat ? seat.remaining : null;
  } catch {
    return null;
  }
}

/** Cancel a held, unpaid order after a confirm step; the seats go back on sale at once. */
function cancelBox(order) {
  const box = el("div", { class: "card", id: "cancel-box" });
  const errors = el("p", { class: "error", role: "alert", dataset: { errorFor: "" } });
  const seats = order.passengers.filter((p) => p.coach).map((p) => `${p.coach} 车 ${p.seat || "无座"}`);
  const confirmCancel = async (button) => {
    errors.textContent = "";
    button.disabled = true;
    try {
      const done = await api("POST", `${orderPath(order.number)}/cancel`);
      const left = await remainingNow(done);
      const label = CLASS_LABELS[order.seat_class] || order.seat_class;
      setNotice(order,
        el("p", {}, `订单已取消 Order ${order.number} cancelled. 座位已重新发售 Seats back on sale: `
          + `${seats.join(", ") || "—"}.`),
        left === null ? null : el("p", { class: "on-sale" },
          `${order.train} ${label} 当前余票 now ${left} left`));
      announce(`订单已取消, 座位已重新发售 — order cancelled, seats back on sale`);
      showOrder(order.number);
    } catch (error) {
      button.disabled = false;
      errors.textContent = error.message;
      announce(error.message);
    }
  };
  const ask = () => {
    const yes = el("button", { type: "button", class: "danger" }, "确认取消订单 Confirm cancel");
    yes.addEventListener("click", () => confirmCancel(yes));
    box.replaceChildren(
      el("p", {}, `确认取消订单 ${order.number}? Cancel this order? 座位 ${seats.join(", ") || ""} 将重新发售 `
        + "its seats go back on sale; 每天最多取消 3 次 at most 3 cancellations a day."),
      el("div", { class: "actions" }, yes,
        el("button", { type: "button", class: "secondary", onclick: keep }, "不取消 Keep the order")),
      errors);
    yes.focus();
  };
  const keep = () => box.replaceChildren(
    el("button", { type: "button", class: "secondary", onclick: ask }, "取消订单 Cancel order"), errors);
  keep();
  return box;
}

function ticketsTable(order) {
  const rows = order.tickets.map((ticket) => {
    const slot = el("div", { class: "ticket-panel", "aria-live": "polite" });
    const live = ticket.state === "issued";
    const who = order.passengers[ticket.passenger] ? order.passengers[ticket.passenger].name : "";
    return [
      el("tr", { dataset: { ticket: ticket.number } },
        el("td", {}, who), el("td", {}, ticket.number),
        el("td", {}, `${ticket.train} ${ticket.date}`, el("div", { class: "muted" },
          `${nameOf(ticket.from)} → ${nameOf(ticket.to)}`)),
        el("td", {}, `${ticket.coach} 车 / ${ticket.seat}`),
        el("td", {}, `${nameOf(ticket.from)} ${ticket.gate || ""}`),
        el("td", {}, yuan(ticket.fare_fen)),
        el("td", {}, badge(ticket.state, TICKET_STATES)),
        el("td", {}, live ? el("div", { class: "actions" },
          el("button", { type: "button", class: "small", onclick: () => showCode(order, ticket, slot) },
            "二维码 QR code"),
          el("button", { type: "button", class: "small secondary", onclick: () => changeForm(order, ticket, slot) },
            "改签 Change"),
          el("button", { type: "button", class: "small danger", onclick: () => refund(order, ticket, slot) },
            "退票 Refund")) : "")),
      el("tr", {}, el("td", { colspan: "8" }, slot)),
    ];
  });
  return el("table", { class: "card", id: "tickets" },
    el("caption", { class: "muted", text: "车票 Tickets" }),
    el("thead", {}, el("tr", {}, ...["乘车人 Passenger", "票号 Ticket no.", "车次 Train",
      "车厢/座位 Coach/seat", "检票口 Check-in gate", "票价 Fare", "状态 State", ""]
      .map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.flat()));
}

async function render(order) {
  window.clearInterval(countdown);
  await stationNames([order.from, order.to, ...order.tickets.flatMap((t) => [t.from, t.to])]);
  const parts = [
    el("div", { class: "card order-card" },
      el("h3", {}, `订单 Order ${order.number} `, badge(order.state, ORDER_STATES)),
      el("p", {}, el("strong", {}, order.train), ` ${order.date} · ${nameOf(order.from)} → ${nameOf(order.to)} · `
        + `${dateTime(order.departs_at)} – ${hhmm(order.arrives_at)} · ${CLASS_LABELS[order.seat_class] || order.seat_class}`),
      order.amount_fen ? el("p", {}, "金额 Amount ", el("span", { class: "price", text: yuan(order.amount_fen) })) : null,
      order.paid_fen ? el("p", { class: "money" }, `实付 Paid ${yuan(order.paid_fen)}`
        + (order.refunded_fen ? ` · 已退 Returned ${yuan(order.refunded_fen)}` : "")
        + (order.fee_fen ? ` · 手续费 Fees ${yuan(order.fee_fen)}` : "")) : null,
      order.state === "failed" ? el("p", { class: "error", role: "alert" },
        `失败原因 Reason: ${REASONS[order.reason] || order.reason || "—"}`) : null,
      order.state === "queued" ? queueLine(order) : null),
    el("div", { id: "order-notice" }, notice && notice.number === order.number ? notice.node : null),
    passengersTable(order),
  ];
  if (order.state === "held") parts.push(payBox(order), cancelBox(order));
  if (order.tickets.length) parts.push(ticketsTable(order));
  $("#order-detail").replaceChildren(...parts);
  if (order.state !== lastState) announce(ANNOUNCE[order.state] || order.state);
  lastState = order.state;
}

/** Long-poll the order while it stays in one of ``waitingIn``, re-rendering on each change. */
async function follow(order, waitingIn) {
  const token = ++followToken;
  let current = order;
  while (token === followToken && waitingIn.has(current.state)) {
    try {
      const wait = current.state === "queued" ? QUEUE_POLL : 20; // the place moves while queued
      current = await api("GET", query(orderPath(current.number), { wait, state: current.state }));
    } catch (error) {
      if (token === followToken) announce(error.message);
      return;
    }
    if (token !== followToken) return;
    await render(current);
  }
}

export function stopFollowing() {
  followToken += 1;
  window.clearInterval(countdown);
}

/** Back from the cashier with a change's difference paid: the change completes when the
 *  channel's notification reaches the server, so look again until the ticket has changed. */
async function followChange(order, ticketNumber) {
  const token = followToken;
  const done = (o) => o.tickets.some((t) => t.changed_from === ticketNumber);
  let current = order;
  if (!done(current)) {
    setNotice(order, el("p", {}, "正在确认差价支付 Confirming the payment of the change…"));
    await render(current);
  }
  for (let tries = 0; tries < 60 && !done(current); tries += 1) {
    await new Promise((resolve) => { window.setTimeout(resolve, 1000); });
    if (token !== followToken) return;
    try {
      current = await api("GET", orderPath(order.number));
    } catch (error) {
      announce(error.message);
      return;
    }
  }
  if (token !== followToken) return;
  if (done(current)) {
    const moved = current.tickets.find((t) => t.changed_from === ticketNumber);
    setNotice(current, el("p", {}, `改签成功 Changed to ${moved.train} ${moved.date}, `
      + `${moved.coach} 车 ${moved.seat} (coach ${moved.coach}, seat ${moved.seat}), 新票 new ticket ${moved.number}`));
    announce(`改签成功 Changed to ${moved.train} ${moved.date}`);
  } else {
    setNotice(current, el("p", {}, "尚未收到差价支付结果 The change's payment is not confirmed yet; "
      + "the old ticket stays valid. 请稍后刷新 Refresh later."));
  }
  await render(current);
}

/** Show an order; ``awaitingPayment`` keeps following a held order until it is paid, and
 *  ``changedTicket`` (back from paying a change) until that ticket's change completes. */
export async function showOrder(number, awaitingPayment = false, changedTicket = "") {
  stopFollowing();
  lastState = "";
  const box = $("#order-detail");
  try {
    const [order] = await Promise.all([api("GET", orderPath(number)), ensureCalendar()]);
    await render(order);
    if (changedTicket) {
      followChange(order, changedTicket);
      return;
    }
    const waiting = new Set(["queued"]);
    if (awaitingPayment) waiting.add("held");
    follow(order, waiting);
  } catch (error) {
    box.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
    announce(error.message);
  }
}
