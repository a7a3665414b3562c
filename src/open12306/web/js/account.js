// Account (register, log in, log out) and saved real-name passengers.

import { api, session } from "./api.js";
import { $, announce, clearErrors, el, showError } from "./dom.js";

const DOCUMENTS = {
  resident_id: "居民身份证 Resident ID", passport: "护照 Passport",
  hk_macao_permit: "港澳通行证 HK/Macao permit", taiwan_permit: "台湾通行证 Taiwan permit",
};
const TYPES = { adult: "成人 Adult", child: "儿童 Child", student: "学生 Student",
  disabled_military: "残军 Disabled military" };

export function refreshAccountLink() {
  const link = $("#account-link");
  link.textContent = session.token ? `${session.username} · 账户 Account` : "登录 / 注册 Log in";
  $("#account-in").hidden = !session.token;
  $("#login-form").hidden = Boolean(session.token);
  $("#account-who").textContent = session.token ? `已登录 Logged in as ${session.username}` : "";
}

export async function loadPassengers() {
  const answer = await api("GET", "/api/v1/passengers");
  return answer.passengers;
}

function passengerItem(passenger, reload) {
  const remove = async () => {
    try {
      await api("DELETE", `/api/v1/passengers/${encodeURIComponent(passenger.id)}`);
      announce(`已删除 Removed ${passenger.name}`);
      reload();
    } catch (error) { announce(error.message); }
  };
  return el("li", { dataset: { passenger: passenger.id } },
    el("strong", {}, passenger.name), " ",
    el("span", { class: "muted" },
      `${DOCUMENTS[passenger.id_type] || passenger.id_type} ${passenger.id_number} · `
      + `${TYPES[passenger.passenger_type] || passenger.passenger_type}`),
    " ",
    el("button", { type: "button", class: "small danger", onclick: remove,
      "aria-label": `删除 Remove ${passenger.name}` }, "删除 Remove"));
}

export async function showPassengers() {
  const list = $("#passenger-list");
  if (!session.token) {
    list.replaceChildren(el("li", {}, "请先登录 Please ", el("a", { href: "#/account" }, "log in"), "."));
    $("#passenger-form").hidden = true;
    return;
  }
  $("#passenger-form").hidden = false;
  try {
    const passengers = await loadPassengers();
    list.replaceChildren(...(passengers.length
      ? passengers.map((p) => passengerItem(p, showPassengers))
      : [el("li", { class: "muted" }, "还没有乘车人 No passengers yet.")]));
  } catch (error) {
    list.replaceChildren(el("li", { class: "error", role: "alert" }, error.message));
  }
}

async function login(username, password) {
  const answer = await api("POST", "/api/v1/sessions", { body: { username, password } });
  session.start(answer.token, answer.account.username);
}

function initLogin(afterLogin) {
  const form = $("#login-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const action = event.submitter ? event.submitter.value : "login";
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    try {
      if (action === "register") {
        await api("POST", "/api/v1/accounts", { body: { username, password } });
      }
      await login(username, password);
      form.reset();
      refreshAccountLink();
      announce(action === "register"
        ? `注册成功, 已登录 Registered and logged in as ${username}`
        : `已登录 Logged in as ${username}`);
      afterLogin();
    } catch (error) {
      showError(form, error);
      announce(error.message);
    }
  });
  $("#logout").addEventListener("click", async () => {
    try { await api("DELETE", "/api/v1/sessions/current"); } catch { /* ended anyway */ }
    session.end();
    refreshAccountLink();
    announce("已退出 Logged out");
  });
}

function initPassengerForm() {
  const form = $("#passenger-form");
  const kind = form.elements.id_type;
  const toggle = () => form.querySelectorAll(".other-doc").forEach((node) => {
    node.hidden = kind.value === "resident_id";
  });
  kind.addEventListener("change", toggle);
  toggle();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = {
      name: form.elements.name.value.trim(),
      id_type: kind.value,
      id_number: form.elements.id_number.value.trim(),
      student: form.elements.student.checked,
    };
    if (kind.value !== "resident_id") {
      if (form.elements.birth_date.value) body.birth_date = form.elements.birth_date.value;
      if (form.elements.sex.value) body.sex = form.elements.sex.value;
    }
    try {
      const saved = await api("POST", "/api/v1/passengers", { body });
      form.reset();
      toggle();
      announce(`已添加乘车人 Passenger added: ${saved.name}`);
      showPassengers();
    } catch (error) {
      showError(form, error);
      announce(error.message);
    }
  });
}

export function initAccount(afterLogin) {
  initLogin(afterLogin);
  initPassengerForm();
  refreshAccountLink();
}
