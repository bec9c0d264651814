// The resend countdown of the verification-code forms. The page works without it: the server
// refuses an early resend with "try again in N s". With it, the button waits and says how long.
"use strict";
document.querySelectorAll("[data-countdown]").forEach(function (button) {
  var end = Date.now() + 1000 * Number(button.getAttribute("data-countdown"));
  var label = button.textContent;
  function tick() {
    var left = Math.ceil((end - Date.now()) / 1000);
    if (left > 0) {
      button.disabled = true;
      button.textContent = label + " (" + left + " s)";
      setTimeout(tick, 250);
    } else {
      button.disabled = false;
      button.textContent = label;
    }
  }
  tick();
});
