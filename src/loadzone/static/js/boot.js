// What the server tells the scripts about the person and the site's rules, from the page's
// "boot" JSON island: email, is_admin, can_manage, max_hours, reserve_days, warning_minutes,
// locale. Its own module, so that reading a rule does not mean importing the translations.
const node = document.getElementById("boot");

export const boot = node ? JSON.parse(node.textContent) : {};
