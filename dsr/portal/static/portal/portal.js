// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Show the state picker only when the country is the United States.
  var country = document.getElementById("id_country");
  var state = document.querySelector("[data-state-field]");
  if (country && state) {
    var sync = function () { state.hidden = country.value !== "US"; };
    country.addEventListener("change", sync);
    sync();
  }
  // Move focus to the error summary so keyboard and screen-reader users hear it first.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
})();
