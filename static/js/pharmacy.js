// Reload the one-use pharmacy QR code when it expires, with a visible countdown.
(function () {
  "use strict";
  var figure = document.getElementById("dynamic-qr");
  if (!figure) { return; }
  var image = document.getElementById("dynamic-qr-image");
  var countdown = document.getElementById("qr-countdown");
  var lifetime = parseInt(figure.getAttribute("data-lifetime"), 10) || 60;
  var template = countdown.getAttribute("data-template");
  // A little before expiry, so the code on screen is never already refused at the counter.
  var margin = 2;
  var remaining = lifetime - margin;

  function show() {
    countdown.textContent = template.replace("__SECONDS__", String(Math.max(remaining, 0)));
  }

  function refresh() {
    image.src = figure.getAttribute("data-src") + "?t=" + Date.now();
    remaining = lifetime - margin;
    show();
  }

  show();
  window.setInterval(function () {
    remaining -= 1;
    if (remaining <= 0) { refresh(); } else { show(); }
  }, 1000);
})();
