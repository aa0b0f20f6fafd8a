/* Kleidi's only script, loaded from this site (no inline code, so a strict content security
   policy holds). Every page works without it; it adds:
   - focus on the error summary when a form comes back with errors, so that a screen reader
     reads it first and a keyboard user starts from it;
   - the length of a new password while it is typed, and whether the repetition matches. */
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_all, name) { return values[name]; });
  }

  function focusSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
  }

  function watchStrength(input) {
    var output = document.getElementById(input.getAttribute("data-strength"));
    var repeat = document.getElementById(input.getAttribute("data-repeat"));
    var match = repeat && document.getElementById(repeat.id + "-match");
    var min = Number(input.getAttribute("data-min"));
    var recommended = Number(input.getAttribute("data-recommended"));
    function lengthOf(text) { return Array.from(text.normalize("NFKC")).length; }
    function update() {
      var count = lengthOf(input.value);
      var state = count === 0 ? "empty" : count < min ? "short" : count < recommended ? "fair" : "good";
      output.textContent = fill(output.getAttribute("data-" + state) || "",
        { count: count, min: min, recommended: recommended });
      output.className = "strength hint strength-" + state;
      if (match) {
        var same = !repeat.value || repeat.value === input.value;
        match.textContent = same ? "" : repeat.getAttribute("data-mismatch");
      }
    }
    input.addEventListener("input", update);
    if (repeat) { repeat.addEventListener("input", update); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusSummary();
    document.querySelectorAll("input[data-strength]").forEach(watchStrength);
  });
}());
