/* Customer portal: a live countdown for holds and stock reservations.
   The server already prints the expiry time; this only adds a ticking clock, and when
   the time is up it shows the expiry message and disables the payment form. */
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function start(box) {
    var until = Date.parse(box.getAttribute("data-countdown-until"));
    if (isNaN(until)) { return; }
    var timer = box.querySelector("[role=timer]");
    var clock = box.querySelector("[data-countdown-clock]");
    var expired = document.querySelector(box.getAttribute("data-countdown-expired") || "#none");
    var form = document.querySelector("[data-countdown-form]");
    if (timer) { timer.hidden = false; }

    function tick() {
      var left = Math.max(0, Math.round((until - Date.now()) / 1000));
      if (clock) { clock.textContent = Math.floor(left / 60) + ":" + pad(left % 60); }
      if (left === 0) {
        window.clearInterval(handle);
        box.hidden = true;
        if (expired) { expired.hidden = false; }
        if (form) {
          form.querySelectorAll("button, input, select").forEach(function (el) { el.disabled = true; });
        }
      }
    }
    var handle = window.setInterval(tick, 1000);
    tick();
  }

  function init() {
    document.querySelectorAll("[data-countdown-until]").forEach(start);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
