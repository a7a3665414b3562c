// Small DOM helpers: element building, status messages, field errors, formatting.

import { operatorZone } from "./calendar.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function $(selector, root = document) { return root.querySelector(selector); }

export function announce(message) {
  const status = $("#status");
  status.textContent = "";
  // A fresh text node so screen readers announce a repeated message too.
  window.requestAnimationFrame(() => { status.textContent = message; });
}

/** Clear a form's error messages and invalid marks. */
export function clearErrors(root) {
  root.querySelectorAll("[data-error-for]").forEach((node) => { node.textContent = ""; });
  root.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
}

/** Show an API error next to the field it names, or at the form's general slot. */
export function showError(root, error) {
  const message = error.message || String(error);
  const field = error.field || "";
  let slot = field ? root.querySelector(`[data-error-for="${CSS.escape(field)}"]`) : null;
  if (slot) {
    const input = root.querySelector(`[name="${CSS.escape(field)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  } else {
    slot = root.querySelector('[data-error-for=""]');
  }
  if (slot) slot.textContent = message;
  else announce(message);
}

export function yuan(fen) {
  const sign = fen < 0 ? "-" : "";
  const value = Math.abs(fen);
  return `${sign}¥${Math.floor(value / 100)}.${String(value % 100).padStart(2, "0")}`;
}

const WITH_OFFSET = /(?:[+-]\d\d:?\d\d|Z)$/;

/** Date and wall-clock time of ``iso`` as the operator reads them: an instant with an offset
 *  is shown in the operator's zone (whatever zone the server wrote it in, never the browser's);
 *  a local time without one as written. */
function operatorClock(iso) {
  if (!WITH_OFFSET.test(iso)) return [iso.slice(0, 10), iso.slice(11, 16)];
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone: operatorZone(), year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  const part = Object.fromEntries(format.formatToParts(Date.parse(iso)).map((p) => [p.type, p.value]));
  return [`${part.year}-${part.month}-${part.day}`, `${part.hour}:${part.minute}`];
}

export function hhmm(iso) { return iso ? operatorClock(iso)[1] : ""; }

export function dateTime(iso) { return iso ? operatorClock(iso).join(" ") : ""; }

export const CLASS_LABELS = {
  business: "商务座 Business", first: "一等座 First", second: "二等座 Second",
  soft_sleeper: "软卧 Soft sleeper", hard_sleeper: "硬卧 Hard sleeper",
  hard_seat: "硬座 Hard seat", standing: "无座 Standing",
};

export const ORDER_STATES = {
  queued: "排队中 Queued", held: "待支付 Awaiting payment", paid: "已支付 Paid",
  failed: "失败 Failed", expired: "已超时 Expired", cancelled: "已取消 Cancelled",
};

export const TICKET_STATES = {
  issued: "已出票 Issued", refunded: "已退票 Refunded", changed: "已改签 Changed", used: "已使用 Used",
};

export function badge(state, labels) {
  return el("span", { class: `badge ${state}`, text: labels[state] || state });
}
