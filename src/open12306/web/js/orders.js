// My orders: newest first, each linking to its page (pay, tickets, refund, change, QR).

import { api, session } from "./api.js";
import { $, badge, dateTime, el, ORDER_STATES, TICKET_STATES, yuan } from "./dom.js";
import { nameOf, stationNames } from "./stations.js";

function orderItem(order) {
  const live = order.tickets.filter((t) => t.state === "issued").length;
  return el("li", { class: "order-card", dataset: { order: order.number } },
    el("h3", {}, el("a", { href: `#/order/${encodeURIComponent(order.number)}` },
      `${order.train} ${order.date} · ${nameOf(order.from)} → ${nameOf(order.to)}`), " ",
    badge(order.state, ORDER_STATES)),
    el("p", { class: "muted" }, `订单号 Order ${order.number} · 开车 departs ${dateTime(order.departs_at)}`
      + ` · ${order.passengers.length} 人 passenger(s)`
      + (order.paid_fen ? ` · 实付 paid ${yuan(order.paid_fen)}` : order.amount_fen ? ` · ${yuan(order.amount_fen)}` : "")
      + (order.refunded_fen ? ` · 已退 returned ${yuan(order.refunded_fen)}` : "")),
    order.tickets.length ? el("p", {}, order.tickets.map((t) => el("span", { class: "seat" },
      `${t.number} ${t.train} ${t.coach}车 ${t.seat}`, badge(t.state, TICKET_STATES)))) : null,
    order.state === "held" ? el("p", {}, el("a", { href: `#/order/${encodeURIComponent(order.number)}` },
      `去支付 Pay now (截止 by ${dateTime(order.pay_deadline)})`)) : null,
    live ? el("p", { class: "muted" }, `${live} 张有效车票 live ticket(s)`) : null);
}

export async function showOrders() {
  const box = $("#orders-list");
  if (!session.token) {
    box.replaceChildren(el("p", {}, "请先登录 Please ", el("a", { href: "#/account" }, "log in"), "."));
    return;
  }
  box.replaceChildren(el("p", { class: "muted" }, "加载中… Loading…"));
  try {
    const { orders } = await api("GET", "/api/v1/orders");
    await stationNames(orders.flatMap((o) => [o.from, o.to]));
    box.replaceChildren(orders.length ? el("ul", { class: "plain" }, orders.map(orderItem))
      : el("p", {}, "还没有订单 No orders yet. ", el("a", { href: "#/search" }, "去查询 Search trains")));
  } catch (error) {
    box.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
  }
}
