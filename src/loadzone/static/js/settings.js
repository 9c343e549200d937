// Settings: which notifications also come by e-mail (saved on each change) and the secret
// calendar feed address.
import { api, errorMessage } from "./api.js";
import { copyFrom } from "./copy-button.js";
import { byId, el, showError } from "./dom.js";
import { t } from "./i18n.js";

let loaded = false;

function checkbox(type, wanted) {
  const id = `pref-${type}`;
  const input = el("input", { type: "checkbox", id, name: type, checked: wanted });
  return el("div", { class: "check" }, input, el("label", { for: id, text: t(`notif.${type}`) }));
}

async function load() {
  try {
    const { email } = await api("/api/me/preferences");
    const types = Object.keys(email).sort((a, b) => t(`notif.${a}`).localeCompare(t(`notif.${b}`)));
    byId("prefs-list").replaceChildren(...types.map((type) => checkbox(type, email[type])));
    showError(byId("prefs-error"), "");
    loaded = true;
  } catch (error) {
    showError(byId("prefs-error"), errorMessage(error));
  }
}

async function save(input) {
  const status = byId("prefs-status");
  status.textContent = "";
  input.disabled = true;
  try {
    const { email } = await api("/api/me/preferences", {
      method: "PUT",
      body: { email: { [input.name]: input.checked } },
    });
    input.checked = email[input.name];
    status.textContent = t("settings.saved");
    showError(byId("prefs-error"), "");
  } catch (error) {
    input.checked = !input.checked;
    showError(byId("prefs-error"), errorMessage(error));
  } finally {
    input.disabled = false;
  }
}

async function newFeed() {
  const button = byId("feed-new");
  button.disabled = true;
  try {
    const { url } = await api("/api/me/calendar", { method: "POST", body: {} });
    byId("feed-url").value = url;
    byId("feed-copy").hidden = false;
    showError(byId("feed-error"), "");
  } catch (error) {
    showError(byId("feed-error"), errorMessage(error));
  } finally {
    button.disabled = false;
  }
}

export function initSettings() {
  byId("prefs-form").addEventListener("change", (event) => save(event.target));
  byId("prefs-form").addEventListener("submit", (event) => event.preventDefault());
  byId("feed-new").addEventListener("click", newFeed);
  const copy = byId("feed-copy");
  copy.addEventListener("click", () => copyFrom(copy, byId("feed-url").value, byId("feed-url")));
}

export function showSettings(shown) {
  if (shown && !loaded) load();
}
