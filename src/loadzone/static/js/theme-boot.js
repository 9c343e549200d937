// Runs before the first paint (a classic script in <head>): apply the remembered or system theme.
(function () {
  var choice = null;
  try {
    choice = localStorage.getItem("loadzone.theme");
  } catch (e) {
    choice = null;
  }
  if (choice !== "dark" && choice !== "light") {
    choice = window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  document.documentElement.dataset.theme = choice;
})();
