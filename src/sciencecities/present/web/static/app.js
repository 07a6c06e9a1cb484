/* sciencecities dashboard: plain JavaScript over the JSON API (/api), charts with the vendored Vega-Lite.
   The view lives in the URL's query string, so a link reopens the same view. */
"use strict";

const COMPARE_MAX = 4;
const PER_PAGE = 25;
const DEFAULTS = {
  edition: "", level: "city", years: "", subject: "", boundaries: "", country: [], q: "",
  sort: "", order: "", page: 1, colour: "country", profile: "", compare: [],
};
const LIST_KEYS = ["country", "compare"];
const COLUMNS = {
  rank: ["Rank", "int"], previous_rank: ["Prev.", "int"], name: ["Name", "name"], country_code: ["Country", "text"],
  count: ["Count", "int"], share: ["Share", "num"], adjusted_share: ["Adj. Share", "num"],
  change: ["Change", "pct"], contribution: ["% of country", "pct1"],
};
const PROFILE_FIELDS = [
  ["rank", "Rank", "int"], ["of_cities", "of cities", "int"], ["of", "of", "int"], ["count", "Count", "int"],
  ["share", "Share", "num"], ["adjusted_share", "Adjusted Share", "num"], ["change", "Change", "pct"],
  ["contribution_to_country", "% of country", "pct1"], ["institutions", "Institutions", "int"],
  ["years", "Years", "text"],
];

let state = { ...DEFAULTS };
let editions = [];
let countryNames = {};
let busy = 1;  /* the page starts busy (body data-busy=1) until the first render is done */

const $ = (id) => document.getElementById(id);

/* ---- URL <-> state ------------------------------------------------------------------------------------- */
function fromURL() {
  const params = new URLSearchParams(location.search);
  const next = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS)) {
    if (!params.has(key)) continue;
    const value = params.get(key);
    if (LIST_KEYS.includes(key)) next[key] = value.split(",").filter(Boolean);
    else if (key === "page") next.page = Math.max(1, parseInt(value, 10) || 1);
    else next[key] = value;
  }
  next.compare = next.compare.slice(0, COMPARE_MAX);
  state = next;
}

function toURL(push) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(state)) {
    const text = Array.isArray(value) ? value.join(",") : String(value);
    if (text !== (Array.isArray(DEFAULTS[key]) ? DEFAULTS[key].join(",") : String(DEFAULTS[key]))) {
      params.set(key, text);
    }
  }
  const url = params.toString() ? `?${params}` : location.pathname;
  if (url !== location.search) (push ? history.pushState : history.replaceState).call(history, null, "", url);
}

function change(update, push = true) {
  Object.assign(state, update);
  toURL(push);
  render();
}

/* ---- fetching -------------------------------------------------------------------------------------------- */
function setBusy(delta) {
  busy += delta;
  document.body.dataset.busy = String(busy);
}

async function api(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (Array.isArray(value)) value.forEach((v) => query.append(key, v));
    else if (value !== "" && value !== null && value !== undefined) query.set(key, value);
  }
  const url = `/api${path}${[...query].length ? "?" + query : ""}`;
  setBusy(1);
  try {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) {
      const error = new Error(body.error || response.statusText);
      error.hint = body.hint;
      throw error;
    }
    return body;
  } finally {
    setBusy(-1);
  }
}

function showError(error) {
  const box = $("error");
  if (!error) { box.hidden = true; box.textContent = ""; return; }
  box.hidden = false;
  box.textContent = error.message + (error.hint ? ` (${error.hint})` : "");
}

function edition() {
  return editions.find((e) => e.name === state.edition) || editions[0];
}

function common(extra = {}) {
  const params = { edition: state.edition, years: state.years, subject: state.subject, ...extra };
  if (state.level === "city") params.boundaries = state.boundaries;
  return params;
}

function downloadURL(path, params, format) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...params, format })) {
    if (Array.isArray(value)) value.forEach((v) => query.append(key, v));
    else if (value !== "" && value !== null && value !== undefined) query.set(key, value);
  }
  return `/api${path}?${query}`;
}

/* ---- formatting ------------------------------------------------------------------------------------------ */
function format(value, kind) {
  if (value === null || value === undefined || value === "") return "";
  switch (kind) {
    case "int": return Number(value).toLocaleString("en");
    case "num": return Number(value).toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    case "pct": return `${value > 0 ? "+" : ""}${(value * 100).toFixed(1)}%`;
    case "pct1": return `${Number(value).toFixed(1)}%`;
    default: return String(value);
  }
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(child));
  return node;
}

function fillTable(table, columns, rows) {
  const head = table.querySelector("thead");
  const body = table.querySelector("tbody");
  head.replaceChildren(el("tr", {}, columns.map((c) => el("th", { class: c.numeric ? "num" : "" }, c.label))));
  body.replaceChildren(...rows.map((row) => el("tr", {}, columns.map((c) => el("td", {
    class: c.numeric ? "num" : "" }, format(row[c.key], c.kind))))));
}

/* ---- controls -------------------------------------------------------------------------------------------- */
function options(select, items, selected) {
  select.replaceChildren(...items.map(([value, label]) => el("option", { value }, label)));
  select.value = selected;
}

function syncControls() {
  const chosen = edition();
  options($("edition"), editions.map((e) => [e.name, e.title || e.name]), chosen.name);
  $("level").value = state.level;
  const years = [...chosen.years].reverse();
  const [from, to] = state.years ? state.years.split("-") : ["", ""];
  options($("year-from"), [["", "all years"], ...years.map((y) => [String(y), String(y)])], from || "");
  options($("year-to"), [["", from ? "(one year)" : "-"], ...years.map((y) => [String(y), String(y)])],
    to && to !== from ? to : "");
  $("year-to").disabled = !from;
  options($("subject"), [["", "All subjects"], ...chosen.subjects.map((s) => [s.id, s.name])], state.subject);
  options($("boundaries"), chosen.boundaries.map((b) => [b, b]), state.boundaries || chosen.boundaries[0] || "");
  $("boundaries-label").hidden = state.level !== "city";
  $("colour-label").hidden = state.level !== "city";
  $("colour").value = state.colour;
  $("search").value = state.q;
  $("country-chips").replaceChildren(...state.country.map((code) => el("span", { class: "chip" },
    `${countryNames[code] || code} (${code})`,
    el("button", { type: "button", title: `remove ${code}`, "aria-label": `remove ${code}`,
      onclick: () => change({ country: state.country.filter((c) => c !== code), page: 1 }) }, "×"))));
}

function bindControls() {
  $("controls").addEventListener("submit", (e) => e.preventDefault());
  $("edition").addEventListener("change", (e) => change({ edition: e.target.value, subject: "", boundaries: "",
    years: "", page: 1, profile: "", compare: [] }));
  $("level").addEventListener("change", (e) => change({ level: e.target.value, page: 1, sort: "", order: "",
    profile: "", compare: [] }));
  $("year-from").addEventListener("change", (e) => change({ years: e.target.value, page: 1 }));
  $("year-to").addEventListener("change", (e) => {
    const from = $("year-from").value;
    const to = e.target.value;
    let years = from;
    if (to && to !== from) years = Number(to) < Number(from) ? `${to}-${from}` : `${from}-${to}`;
    change({ years, page: 1 });
  });
  $("subject").addEventListener("change", (e) => change({ subject: e.target.value, page: 1 }));
  $("boundaries").addEventListener("change", (e) => change({ boundaries: e.target.value, page: 1, profile: "",
    compare: [] }));
  $("colour").addEventListener("change", (e) => change({ colour: e.target.value }, false));
  $("country-input").addEventListener("change", (e) => {
    const code = countryCode(e.target.value);
    e.target.value = "";
    if (code && !state.country.includes(code)) change({ country: [...state.country, code], page: 1 });
  });
  let timer = null;
  $("search").addEventListener("input", (e) => {
    clearTimeout(timer);
    timer = setTimeout(() => change({ q: e.target.value.trim(), page: 1 }, false), 250);
  });
  $("prev").addEventListener("click", () => change({ page: Math.max(1, state.page - 1) }));
  $("next").addEventListener("click", () => change({ page: state.page + 1 }));
  $("profile-close").addEventListener("click", () => change({ profile: "" }));
  $("compare-clear").addEventListener("click", () => change({ compare: [] }));
  window.addEventListener("popstate", () => { fromURL(); render(); });
}

function countryCode(text) {
  const value = text.trim();
  const coded = value.match(/^([A-Za-z]{2})\b/);
  if (coded && countryNames[coded[1].toUpperCase()]) return coded[1].toUpperCase();
  const wanted = value.toLowerCase();
  const found = Object.entries(countryNames).find(([, name]) => name.toLowerCase() === wanted);
  return found ? found[0] : null;
}

/* ---- the ranking table ----------------------------------------------------------------------------------- */
function rankingParams() {
  return common({ level: state.level, country: state.country.join(","), q: state.q, sort: state.sort,
    order: state.order });
}

async function loadTable() {
  const params = { ...rankingParams(), page: state.page, per_page: PER_PAGE };
  let body;
  try {
    body = await api("/rankings", params);
  } catch (error) {
    if (state.page > 1 && /past the last page/.test(error.message)) { change({ page: 1 }, false); return; }
    throw error;
  }
  const shown = Object.keys(COLUMNS).filter((c) => body.columns.includes(c));
  const title = { city: "Science cities", institution: "Institutions", country: "Countries", group: "Groups" };
  $("table-title").textContent = `${title[state.level]} by Share, ${body.meta.subject === "all" ? "all subjects"
    : subjectName(body.meta.subject)}, ${yearsLabel()} (${body.total.toLocaleString("en")})`;
  const table = $("ranking");
  const head = el("tr", {}, el("th", { title: `compare up to ${COMPARE_MAX}` }, "Cmp"), shown.map((key) => {
    const [label, kind] = COLUMNS[key];
    const active = (state.sort || "rank") === key;
    const sortOrder = active ? (state.order || (key === "rank" || kind === "name" || kind === "text" ? "asc" : "desc")) : null;
    return el("th", { class: `sortable ${kind === "name" || kind === "text" ? "" : "num"}`, "data-key": key,
      "aria-sort": active ? (sortOrder === "asc" ? "ascending" : "descending") : null,
      onclick: () => sortBy(key, kind) }, label);
  }));
  table.querySelector("thead").replaceChildren(head);
  table.querySelector("tbody").replaceChildren(...body.data.map((row) => el("tr", {
    class: row.id === state.profile ? "selected" : "", "data-id": row.id }, el("td", {}, el("input", {
    type: "checkbox", class: "compare", "aria-label": `compare ${row.name}`, checked: state.compare.includes(row.id),
    disabled: !state.compare.includes(row.id) && state.compare.length >= COMPARE_MAX,
    onchange: (e) => toggleCompare(row.id, e.target.checked) })), shown.map((key) => {
    const kind = COLUMNS[key][1];
    if (kind === "name") {
      return el("td", {}, el("a", { class: "entity", href: "#", "data-id": row.id,
        onclick: (e) => { e.preventDefault(); change({ profile: row.id }); } }, row.name || row.id));
    }
    const cls = kind === "text" ? "" : `num ${key === "change" && row.change ? (row.change > 0 ? "up" : "down") : ""}`;
    return el("td", { class: cls }, format(row[key], kind));
  }))));
  $("page-info").textContent = `page ${body.page} of ${body.pages}`;
  $("prev").disabled = body.page <= 1;
  $("next").disabled = body.page >= body.pages;
  for (const fmt of ["csv", "xlsx", "parquet"]) $(`dl-${fmt}`).href = downloadURL("/rankings", rankingParams(), fmt);
}

function sortBy(key, kind) {
  const current = state.sort || "rank";
  const natural = key === "rank" || kind === "name" || kind === "text" ? "asc" : "desc";
  let order = natural;
  if (current === key) order = (state.order || natural) === "asc" ? "desc" : "asc";
  change({ sort: key === "rank" && order === "asc" ? "" : key, order: order === natural ? "" : order, page: 1 });
}

function toggleCompare(id, on) {
  const compare = on ? [...new Set([...state.compare, id])].slice(0, COMPARE_MAX) : state.compare.filter((c) => c !== id);
  change({ compare });
}

function subjectName(id) {
  const found = edition().subjects.find((s) => s.id === id);
  return found ? found.name : id;
}

function yearsLabel() {
  return state.years ? state.years : "all years";
}

/* ---- the map --------------------------------------------------------------------------------------------- */
async function loadMap() {
  const panel = $("map-panel");
  panel.hidden = state.level !== "city";
  if (panel.hidden) return;
  const body = await api("/map", common({ country: state.country.join(","), q: state.q, top: 500 }));
  const byChange = state.colour === "change";
  const color = byChange
    ? { condition: { test: "!isValid(datum.change)", value: "#9a9a9a" }, field: "change_shown", type: "quantitative",
        title: "change", scale: { scheme: "redblue", domain: [-1, 1], clamp: true }, legend: { format: "+.0%" } }
    : { field: "country_code", type: "nominal", title: "country", legend: null };
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: "container",
    height: 440,
    autosize: { type: "fit", contains: "padding" },
    projection: { type: "equalEarth" },
    layer: [
      { data: { url: "/api/world", format: { type: "topojson", feature: "countries" } },
        mark: { type: "geoshape", fill: "#e6e6e6", stroke: "white", strokeWidth: 0.5 } },
      { data: { values: body.data },
        /* a city without a change is drawn grey; a null in a colour field would drop the circle */
        transform: [{ calculate: "isValid(datum.change) ? datum.change : 0", as: "change_shown" }],
        mark: { type: "circle", opacity: 0.75, stroke: "white", strokeWidth: 0.6, cursor: "pointer" },
        encoding: {
          longitude: { field: "longitude", type: "quantitative" },
          latitude: { field: "latitude", type: "quantitative" },
          size: { field: "share", type: "quantitative", title: "Share", scale: { type: "sqrt", range: [10, 1600] },
            legend: null },
          color,
          order: { field: "share", sort: "descending" },
          tooltip: [
            { field: "name", title: "city" }, { field: "country_code", title: "country" },
            { field: "rank", title: "rank" }, { field: "share", title: "Share", format: ".2f" },
            { field: "count", title: "Count" }, { field: "change", title: "change", format: "+.1%" },
          ],
        } },
    ],
  };
  const result = await embed("#map", spec);
  window.sciencecitiesMap = result.view;
  result.view.addEventListener("click", (event, item) => {
    if (item && item.datum && item.datum.id) change({ profile: item.datum.id });
  });
  $("map").dataset.points = String(body.count);
  $("map-note").textContent = `${body.count} science cities drawn, circle area proportional to Share` +
    (body.unplaced ? `; ${body.unplaced} without coordinates not drawn` : "") +
    (byChange ? "; colour: change in Adjusted Share against the previous window (grey: none)" : "");
}

async function embed(selector, spec) {
  setBusy(1);
  try {
    return await vegaEmbed(selector, spec, { actions: false, renderer: "svg" });
  } finally {
    setBusy(-1);
  }
}

/* ---- profile --------------------------------------------------------------------------------------------- */
async function loadProfile() {
  const panel = $("profile-panel");
  const shown = Boolean(state.profile);
  panel.hidden = !shown;
  document.querySelector("main").classList.toggle("with-profile", shown);
  if (!shown) return;
  const params = { edition: state.edition, years: state.years, top: 10 };
  if (state.level === "city") params.boundaries = state.boundaries;
  const path = `/entities/${state.level}/${encodeURIComponent(state.profile)}`;
  const body = await api(path, params);
  const summary = body.summary;
  $("profile-title").textContent = `${summary.name || summary.id}${summary.country ? ", " + summary.country
    : summary.country_code ? " (" + summary.country_code + ")" : ""}`;
  $("dl-profile").href = downloadURL(path, params, "xlsx");
  $("profile-summary").replaceChildren(...PROFILE_FIELDS.filter(([key]) => key in summary).map(([key, label, kind]) =>
    el("div", {}, el("dt", {}, label), el("dd", { "data-key": key }, format(summary[key], kind) || "-"))));
  const byYear = body.sections.by_year || [];
  await embed("#trend-chart", {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: "container", height: 180, data: { values: byYear },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "year", type: "ordinal", title: null },
      y: { field: "share", type: "quantitative", title: "Share" },
      tooltip: [{ field: "year" }, { field: "rank" }, { field: "share", format: ".2f" }, { field: "count" }],
    },
  });
  const subjects = body.sections.subjects || [];
  await embed("#subject-chart", {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: "container", height: Math.max(60, 28 * subjects.length), data: { values: subjects },
    mark: { type: "bar", color: "#1f5fae" },
    encoding: {
      y: { field: "name", type: "nominal", title: null, sort: null },
      x: { field: "share", type: "quantitative", title: "Share" },
      tooltip: [{ field: "name", title: "subject" }, { field: "rank" }, { field: "share", format: ".2f" },
        { field: "count" }, ...(subjects.length && "specialisation" in subjects[0]
          ? [{ field: "specialisation", format: ".2f" }] : [])],
    },
  });
  const institutions = body.sections.institutions || [];
  fillTable($("institutions"), [
    { key: "rank", label: "Rank", kind: "int", numeric: true }, { key: "name", label: "Institution" },
    { key: "share", label: "Share", kind: "num", numeric: true },
    { key: "contribution", label: "% of city", kind: "pct1", numeric: true },
  ].filter((c) => !institutions.length || c.key in institutions[0]), institutions);
  const partners = body.sections.collaborators || [];
  fillTable($("collaborators"), [
    { key: "rank", label: "Rank", kind: "int", numeric: true }, { key: "name", label: "Partner" },
    { key: "articles", label: "Articles", kind: "int", numeric: true },
    { key: "score", label: "Score", kind: "num", numeric: true },
  ], partners);
}

/* ---- compare --------------------------------------------------------------------------------------------- */
async function loadCompare() {
  const panel = $("compare-panel");
  panel.hidden = state.compare.length === 0;
  if (panel.hidden) return;
  const params = common({ level: state.level });
  delete params.years;
  const [trend, ranked] = await Promise.all([
    api("/trend", { ...params, id: state.compare }),
    api("/rankings", { ...common({ level: state.level }), id: state.compare, per_page: COMPARE_MAX }),
  ]);
  const names = Object.fromEntries(ranked.data.map((r) => [r.id, r.name]));
  $("compare-chips").replaceChildren(...state.compare.map((id) => el("span", { class: "chip", "data-id": id },
    names[id] || id, el("button", { type: "button", "aria-label": `remove ${id}`,
      onclick: () => toggleCompare(id, false) }, "×"))));
  await embed("#compare-chart", {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: "container", height: 200, data: { values: trend.data },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "year", type: "ordinal", title: null },
      y: { field: "share", type: "quantitative", title: "Share" },
      color: { field: "name", type: "nominal", title: null },
      tooltip: [{ field: "name" }, { field: "year" }, { field: "rank" }, { field: "share", format: ".2f" }],
    },
  });
  const shown = ["rank", "name", "country_code", "count", "share", "adjusted_share", "change", "contribution"]
    .filter((k) => ranked.columns.includes(k));
  fillTable($("compare-table"), shown.map((key) => ({ key, label: COLUMNS[key][0], kind: COLUMNS[key][1],
    numeric: !["name", "text"].includes(COLUMNS[key][1]) })), ranked.data);
}

/* ---- putting it together --------------------------------------------------------------------------------- */
let generation = 0;

async function render() {
  const mine = ++generation;
  if (!editions.some((e) => e.name === state.edition)) state.edition = editions[0].name;
  const chosen = edition();
  if (state.level === "city" && !chosen.boundaries.includes(state.boundaries)) state.boundaries = chosen.boundaries[0] || "";
  syncControls();
  showError(null);
  setBusy(1);
  const results = await Promise.allSettled([loadTable(), loadMap(), loadProfile(), loadCompare()]);
  if (mine === generation) {
    const failed = results.find((r) => r.status === "rejected");
    if (failed) showError(failed.reason);
  }
  setBusy(-1);
}

async function start() {
  fromURL();
  bindControls();
  try {
    const [status, found, countries] = await Promise.all([api(""), api("/editions"), api("/countries")]);
    editions = found;
    countryNames = Object.fromEntries(countries.map((c) => [c.code, c.name]));
    $("country-list").replaceChildren(...countries.map((c) => el("option", { value: `${c.code} ${c.name}` })));
    $("store-line").textContent = `store ${status.store} (version ${status.store_version}), sciencecities ${status.sciencecities_version}`;
    if (!state.edition) state.edition = status.default_edition;
  } catch (error) {
    showError(error);
    setBusy(-1);
    return;
  }
  await render();
  setBusy(-1);
}

start();
