// The operator's calendar from the server (GET /api/v1/calendar): today and the dates on sale
// in the operator's time zone, and the server's clock. Dates are never taken from the browser's
// clock or zone: a passenger abroad books by Beijing dates.

import { api } from "./api.js";

let calendar = null;
let offsetMs = 0; // the server's clock minus the browser's, measured when the calendar came

/** Fetch the calendar (again); the answer: {timezone, now, today, first_date, last_date, presale_days}. */
export async function loadCalendar() {
  const sent = Date.now();
  const answer = await api("GET", "/api/v1/calendar");
  const received = Date.now();
  offsetMs = Date.parse(answer.now) - (sent + received) / 2;
  calendar = answer;
  return answer;
}

/** The calendar last fetched, or null before the first answer. */
export function currentCalendar() { return calendar; }

/** The server's clock now, in milliseconds since the epoch (the browser's clock only counts
 *  the time elapsed since the calendar came). */
export function serverNow() { return Date.now() + offsetMs; }

/** The operator's time zone (IANA name) for showing instants. */
export function operatorZone() { return calendar ? calendar.timezone : "Asia/Shanghai"; }

/** The date picker's range: the dates on sale (its value left as it is). */
export function boundDateRange(input) {
  if (!calendar) return;
  input.min = calendar.first_date;
  input.max = calendar.last_date;
}

/** Bound a date input to the dates on sale; ``value`` (default: today) when it has none or
 *  one outside them. */
export function boundDateInput(input, value) {
  if (!calendar) return;
  boundDateRange(input);
  const wanted = value || input.value;
  const inside = wanted && wanted >= calendar.first_date && wanted <= calendar.last_date;
  input.value = inside ? wanted : calendar.today;
}

/** The calendar, fetched once if it has not come yet; null when the server cannot be asked. */
export async function ensureCalendar() {
  if (calendar) return calendar;
  try {
    return await loadCalendar();
  } catch {
    return null;
  }
}

/** How the operator's zone is named on the page. */
export function zoneLabel() {
  const zone = operatorZone();
  return zone === "Asia/Shanghai" ? "北京时间 Beijing time" : zone;
}
