// The sign-in page: open mode signs in at once; link mode says where the link went.
import { api, errorMessage } from "./api.js";
import { initLanguage } from "./chrome.js";
import { byId, showError } from "./dom.js";
import { t } from "./i18n.js";
import { initTheme } from "./theme.js";

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const email = form.email.value.trim();
  const error = byId("login-error");
  if (!form.email.checkValidity() || !email) {
    showError(error, t("login.invalid_email"));
    form.email.focus();
    return;
  }
  const submit = byId("login-submit");
  submit.disabled = true;
  showError(error, "");
  try {
    const answer = await api("/api/auth/login", { method: "POST", body: { email } });
    if (answer?.user) {
      window.location.assign("/");
      return;
    }
    const printed = answer?.delivery === "console";
    byId("login-sent-title").textContent = t(printed ? "login.console_title" : "login.mail_title");
    byId("login-sent-text").textContent = printed
      ? t("login.console_text")
      : t("login.mail_text", { email });
    byId("login-sent").hidden = false;
    form.hidden = true;
  } catch (failure) {
    showError(error, errorMessage(failure));
    form.email.focus();
  } finally {
    submit.disabled = false;
  }
}

initTheme();
initLanguage();
byId("login-form")?.addEventListener("submit", signIn);
