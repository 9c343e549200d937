// The top bar: language switch and signing out.
import { api } from "./api.js";
import { byId } from "./dom.js";

const YEAR = 365 * 24 * 3600;

/** Remember the language in the `lang` cookie the server reads, and reload in it. */
export function initLanguage() {
  byId("lang-select")?.addEventListener("change", (event) => {
    const secure = window.location.protocol === "https:" ? "; secure" : "";
    document.cookie = `lang=${event.target.value}; path=/; max-age=${YEAR}; samesite=lax${secure}`;
    window.location.reload();
  });
}

export function initSignOut() {
  byId("sign-out")?.addEventListener("click", async () => {
    let next = "/login";
    try {
      // After an identity-provider sign-in, its logout page ends that session too.
      const answer = await api("/api/auth/logout", { method: "POST" });
      next = answer?.redirect || next;
    } finally {
      window.location.assign(next);
    }
  });
}
