// The one-click extend page: a plain form; only the theme and the language need a script.
import { initLanguage } from "./chrome.js";
import { initTheme } from "./theme.js";

initTheme();
initLanguage();
