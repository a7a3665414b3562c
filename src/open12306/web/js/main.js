// The page's router: #/search, #/book, #/order/<no>, #/orders, #/passengers, #/account.

import { session } from "./api.js";
import { initAccount, refreshAccountLink, showPassengers } from "./account.js";
import { chooseTrip, initBooking, showBooking } from "./booking.js";
import { ensureCalendar } from "./calendar.js";
import { $, announce } from "./dom.js";
import { showOrder, stopFollowing } from "./order.js";
import { showOrders } from "./orders.js";
import { initSearch, refreshDates } from "./search.js";

let afterLogin = "#/search";
let returnedFromPayment = "";
let returnedFromChange = ""; // the ticket whose change was being paid at the cashier

function showView(name) {
  document.querySelectorAll("[data-view]").forEach((section) => {
    section.hidden = section.dataset.view !== name;
  });
  document.querySelectorAll("[data-nav]").forEach((link) => {
    if (link.dataset.nav === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  });
  const heading = document.querySelector(`[data-view="${name}"] h2`);
  if (heading) document.title = `${heading.textContent} · open12306`;
}

function needsLogin(route) {
  if (session.token) return false;
  afterLogin = route;
  window.location.hash = "#/account";
  announce("请先登录 Please log in first");
  return true;
}

function route() {
  const hash = window.location.hash || "#/search";
  const [, name = "search", arg = ""] = hash.split("/");
  stopFollowing();
  switch (name) {
    case "book":
      if (needsLogin(hash)) return;
      showView("book");
      showBooking();
      break;
    case "order": {
      if (needsLogin(hash)) return;
      const number = decodeURIComponent(arg);
      showView("order");
      showOrder(number, returnedFromPayment === number,
        returnedFromPayment === number ? returnedFromChange : "");
      returnedFromPayment = "";
      returnedFromChange = "";
      break;
    }
    case "orders":
      if (needsLogin(hash)) return;
      showView("orders");
      showOrders();
      break;
    case "passengers":
      showView("passengers");
      showPassengers();
      break;
    case "account":
      showView("account");
      refreshAccountLink();
      break;
    default:
      showView("search");
      refreshDates();
  }
}

/** Back from a payment cashier (Alipay's return URL): show the order, waiting for "paid". */
function returnFromCashier() {
  const params = new URLSearchParams(window.location.search);
  const number = params.get("order");
  if (!number) return;
  returnedFromPayment = number;
  returnedFromChange = params.get("change") || "";
  window.history.replaceState(null, "", `/#/order/${encodeURIComponent(number)}`);
}

async function start() {
  returnFromCashier();
  initSearch((trip) => {
    chooseTrip(trip);
    window.location.hash = "#/book";
  });
  initBooking((number) => { window.location.hash = `#/order/${encodeURIComponent(number)}`; });
  initAccount(() => {
    const next = afterLogin;
    afterLogin = "#/search";
    if (window.location.hash === next) route();
    else window.location.hash = next;
  });
  window.addEventListener("open12306:logged-out", refreshAccountLink);
  window.addEventListener("hashchange", route);
  await ensureCalendar(); // the operator's zone and clock before anything is shown
  route();
  $("#main").focus({ preventScroll: true });
}

start();
