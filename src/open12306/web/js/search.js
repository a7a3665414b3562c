// Search: a form (from, to, date, transfers) and the trains found, with seats and prices per class.

import { api, query } from "./api.js";
import { boundDateInput, boundDateRange, loadCalendar, zoneLabel } from "./calendar.js";
import { $, announce, clearErrors, el, hhmm, showError } from "./dom.js";
import { attachSuggestions, remember } from "./stations.js";

let onBook = () => {};

function seatCell(row, seat) {
  const available = seat.remaining > 0;
  const label = seat.label;
  return el("span", { class: `seat${available ? "" : " none"}` },
    el("span", { text: label }),
    el("span", { class: "price", text: `¥${seat.price}` }),
    el("span", { class: "muted", text: available ? `余 ${seat.remaining} left` : "无 none" }),
    available ? el("button", {
      type: "button", class: "small",
      "aria-label": `预订 Book ${row.train} ${seat.label}`,
      onclick: () => onBook({
        train: row.train, date: row.service_date, from: row.from, to: row.to,
        departs: row.departs, arrives: row.arrives, seat_class: seat.class,
        label: seat.label, price: seat.price,
      }),
    }, "预订 Book") : null);
}

function trainRow(row) {
  const days = row.days_later ? ` (+${row.days_later})` : "";
  return el("tr", { dataset: { train: row.train } },
    el("th", { scope: "row" }, row.train),
    el("td", {}, `${row.from.name} → ${row.to.name}`),
    el("td", {}, `${hhmm(row.departs)} – ${hhmm(row.arrives)}${days}`,
      el("div", { class: "muted", text: `${row.duration} · ${row.km} km` })),
    el("td", {}, el("div", { class: "classes" }, row.classes.map((s) => seatCell(row, s)))));
}

function trainTable(rows, caption) {
  return el("table", { class: "card" },
    el("caption", { class: "muted", text: caption }),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col" }, "车次 Train"), el("th", { scope: "col" }, "区间 Stations"),
      el("th", { scope: "col" }, "时间 Time"), el("th", { scope: "col" }, "席别 Seats & prices"))),
    el("tbody", {}, rows.map(trainRow)));
}

function transferBlock(itinerary, index) {
  const [first, second] = itinerary.legs;
  const where = itinerary.same_station
    ? `${itinerary.change_at.name} 同站换乘 same station`
    : `${itinerary.change_at.name} → ${itinerary.board_at.name} 异站换乘 change stations`;
  const hours = Math.floor(itinerary.duration_minutes / 60);
  const minutes = String(itinerary.duration_minutes % 60).padStart(2, "0");
  return el("div", { class: "card transfer", dataset: { transfer: String(index) } },
    el("h4", {}, `中转 Transfer ${first.train} + ${second.train} · ${hours}:${minutes}`),
    el("p", { class: "muted" },
      `在 ${where} 换乘, 等候 wait ${itinerary.wait_minutes} min · 每程单独预订 book each leg`),
    trainTable(itinerary.legs, `中转 Transfer ${index + 1}`));
}

function render(answer, wantTransfers) {
  const box = $("#search-results");
  [answer.from, answer.to].forEach((side) => side.stations.forEach(remember));
  answer.trains.forEach((row) => { remember(row.from); remember(row.to); });
  const parts = [el("p", {}, `${answer.date} 直达 direct: ${answer.trains.length}`
    + (answer.transfers && answer.transfers.length ? ` · 中转 transfers: ${answer.transfers.length}` : ""))];
  if (answer.trains.length) {
    parts.push(trainTable(answer.trains, "直达车次 Direct trains"));
  } else {
    parts.push(el("p", {}, "没有直达列车 No direct trains on this date."));
  }
  const transfers = answer.transfers || [];
  if (transfers.length) {
    transfers.forEach((t) => t.legs.forEach((leg) => { remember(leg.from); remember(leg.to); }));
    parts.push(el("h3", {}, "中转方案 Transfers"), ...transfers.slice(0, 10).map(transferBlock));
  } else if (wantTransfers) {
    parts.push(el("p", { class: "muted" }, "没有中转方案 No transfers found."));
  }
  box.replaceChildren(...parts);
  announce(`找到 ${answer.trains.length} 趟直达, ${transfers.length} 个中转 — found `
    + `${answer.trains.length} direct trains, ${transfers.length} transfers`);
}

/** Take the operator's today and the dates on sale from the server (never the browser's clock):
 *  the date picker defaults to today and is bounded by the pre-sale window. */
export async function refreshDates() {
  const form = $("#search-form");
  const date = form.elements.date;
  const hint = $("#search-date-hint");
  const shown = date.value;
  try {
    const calendar = await loadCalendar();
    // a date typed while the calendar was on its way is the passenger's: kept as typed
    if (date.value === shown) boundDateInput(date);
    else boundDateRange(date);
    hint.textContent = `${zoneLabel()} 今天 today ${calendar.today} · 可购 on sale `
      + `${calendar.first_date} – ${calendar.last_date}`;
  } catch (error) {
    hint.textContent = "";
    showError(form, { field: "date", message: error.message });
  }
}

export function initSearch(book) {
  onBook = book;
  const form = $("#search-form");
  const date = form.elements.date;
  attachSuggestions(form.elements.from);
  attachSuggestions(form.elements.to);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const wantTransfers = form.elements.transfers.checked;
    const params = {
      from: form.elements.from.value.trim(), to: form.elements.to.value.trim(),
      date: date.value, transfers: wantTransfers ? "1" : "0",
    };
    for (const field of ["from", "to", "date"]) {
      if (!params[field]) {
        showError(form, { field, message: "请填写 Required" });
        return;
      }
    }
    announce("查询中… Searching…");
    try {
      render(await api("GET", query("/api/v1/search", params)), wantTransfers);
    } catch (error) {
      $("#search-results").replaceChildren();
      showError(form, error);
      announce(error.message);
    }
  });
}
