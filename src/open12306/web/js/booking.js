// Booking: choose 1–5 saved passengers for a train and class, submit into the order queue.

import { api, session } from "./api.js";
import { $, announce, clearErrors, dateTime, el, showError } from "./dom.js";
import { loadPassengers } from "./account.js";

const MAX_PASSENGERS = 5;
let trip = null;
let attemptKey = null;

function newKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export function currentTrip() { return trip; }

/** Remember the chosen train and class; the page then shows the booking view. */
export function chooseTrip(chosen) {
  trip = chosen;
  attemptKey = newKey();
}

function tripSummary() {
  return [
    el("p", {}, el("strong", {}, trip.train), ` ${trip.date} · ${trip.from.name} → ${trip.to.name}`),
    el("p", {}, `${dateTime(trip.departs)} – ${dateTime(trip.arrives)} · ${trip.label} `,
      el("span", { class: "price", text: `¥${trip.price}` }), " / 人 per person"),
  ];
}

export async function showBooking() {
  const form = $("#book-form");
  clearErrors(form);
  if (!trip) {
    $("#book-trip").replaceChildren(el("p", {}, "请先查询车次 Search for a train first: ",
      el("a", { href: "#/search" }, "车票查询 Search")));
    form.hidden = true;
    return;
  }
  $("#book-trip").replaceChildren(...tripSummary());
  form.hidden = false;
  const box = $("#book-passengers");
  if (!session.token) {
    box.replaceChildren(el("p", {}, "预订前请登录 Please ", el("a", { href: "#/account" }, "log in"),
      " 以预订 to book."));
    return;
  }
  // A line held while the list loads, so the link under it does not move as it arrives.
  box.replaceChildren(el("p", { class: "muted" }, "正在载入乘车人 Loading passengers…"));
  try {
    const passengers = await loadPassengers();
    if (!passengers.length) {
      box.replaceChildren(el("p", {}, "还没有乘车人 No saved passengers yet."));
      return;
    }
    box.replaceChildren(...passengers.map((p, i) => el("div", { class: "field check" },
      el("input", { type: "checkbox", name: "passengers", id: `book-p-${i}`, value: p.id,
        checked: i === 0 && passengers.length === 1 }),
      el("label", { for: `book-p-${i}` }, `${p.name} (${p.id_number})`))));
  } catch (error) {
    showError(form, error);
  }
}

async function submit(form, goToOrder) {
  clearErrors(form);
  const chosen = [...form.querySelectorAll('input[name="passengers"]:checked')].map((i) => i.value);
  if (chosen.length < 1 || chosen.length > MAX_PASSENGERS) {
    showError(form, { field: "passengers", message: "请选择 1–5 位乘车人 Choose 1 to 5 passengers" });
    return;
  }
  const body = {
    train: trip.train, date: trip.date, from: trip.from.code, to: trip.to.code,
    seat_class: trip.seat_class, passengers: chosen,
  };
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  announce("正在提交订单… Submitting the order…");
  try {
    const order = await api("POST", "/api/v1/orders", {
      body, headers: { "Idempotency-Key": attemptKey },
    });
    attemptKey = newKey();
    goToOrder(order.number);
  } catch (error) {
    // a network failure or a shed submission (429: nothing was queued) retries the same attempt
    if (error.status !== 0 && error.status !== 429) attemptKey = newKey();
    const shown = error.status === 429 && error.retryAfter
      ? { field: error.field, message: `系统繁忙, 请 ${error.retryAfter} 秒后重试 Busy — try again in ${error.retryAfter} s` }
      : error;
    showError(form, shown);
    announce(shown.message);
  } finally {
    button.disabled = false;
  }
}

export function initBooking(goToOrder) {
  const form = $("#book-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(form, goToOrder);
  });
}
