// Station suggestions (datalist fed from /api/v1/stations) and a telecode → name cache.

import { api, query } from "./api.js";
import { el } from "./dom.js";

const names = new Map();

export function remember(station) {
  if (station && station.code && station.name) names.set(station.code, station.name);
}

/** "北京南" for "VNP", asking the API once per unknown code; the code itself when unknown. */
export async function stationName(code) {
  if (names.has(code)) return names.get(code);
  try {
    const found = await api("GET", query("/api/v1/stations", { q: code, limit: 5 }));
    found.stations.forEach(remember);
  } catch { /* the code is shown instead */ }
  if (!names.has(code)) names.set(code, code);
  return names.get(code);
}

export async function stationNames(codes) {
  await Promise.all([...new Set(codes)].map(stationName));
}

export function nameOf(code) { return names.get(code) || code; }

/** Fill the input's datalist with stations matching what was typed (debounced). */
export function attachSuggestions(input) {
  const list = document.getElementById(input.getAttribute("list"));
  let timer = 0;
  let asked = "";
  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(async () => {
      const text = input.value.trim();
      if (!text || text === asked) return;
      asked = text;
      try {
        const found = await api("GET", query("/api/v1/stations", { q: text, limit: 8 }));
        const stations = found.stations.length ? found.stations : found.suggestions || [];
        stations.forEach(remember);
        list.replaceChildren(...stations.map((s) => el("option", {
          value: s.name, label: `${s.name} (${s.code}) · ${s.city}`,
        })));
      } catch { list.replaceChildren(); }
    }, 150);
  });
}
