// Tiny DOM helpers. Text always goes in as text (textContent / text nodes), never as HTML.

/** Create an element: el("a", {class: "x", href: "#", text: "label"}, child, "text"). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child != null && child !== false) node.append(child);
  }
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

const icons = new Map();

/** An inline SVG icon copied from one already in the page (so the markup lives in templates). */
export function icon(name) {
  if (!icons.has(name)) {
    icons.set(name, byId("icons")?.content.querySelector(`[data-icon="${name}"] svg`));
  }
  const source = icons.get(name);
  return source ? source.cloneNode(true) : document.createTextNode("");
}

/** Show a message in an error box, or hide the box with no message. */
export function showError(node, message) {
  node.textContent = message || "";
  node.hidden = !message;
}

export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

/** Convert between ISO instants and the local "YYYY-MM-DDTHH:MM:SS" of datetime-local inputs. */
export function toLocalInput(iso) {
  const date = new Date(iso);
  const offset = date.getTimezoneOffset() * 60000;
  return new Date(date.getTime() - offset).toISOString().slice(0, 19);
}

export function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : null;
}
