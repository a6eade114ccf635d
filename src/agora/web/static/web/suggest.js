// Type-ahead for every search box marked data-suggest: after a short pause, ask
// /api/v1/search/suggest and offer the answers as the input's datalist options.
// Choosing a suggestion that names a category, vendor or listing goes straight there.
(function () {
  "use strict";
  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    var timer = null;
    var urls = {};
    input.addEventListener("input", function () {
      var q = input.value.trim();
      if (urls[input.value]) {
        window.location.assign(urls[input.value]);
        return;
      }
      clearTimeout(timer);
      if (q.length < 2) return;
      timer = setTimeout(function () {
        fetch("/api/v1/search/suggest?q=" + encodeURIComponent(q), {headers: {Accept: "application/json"}})
          .then(function (response) { return response.ok ? response.json() : {items: []}; })
          .then(function (body) {
            list.replaceChildren();
            urls = {};
            body.items.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.text;
              option.label = item.kind === "listing" ? item.text : item.text + " (" + item.kind + ")";
              if (item.kind !== "listing") urls[item.text] = item.url;
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 150);
    });
  }
  // "Use my location": the browser's position fills the form's lat/lng (never stored).
  function nearMe(button) {
    if (!navigator.geolocation) return;
    var form = button.form;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (position) {
        form.elements.lat.value = position.coords.latitude.toFixed(5);
        form.elements.lng.value = position.coords.longitude.toFixed(5);
        if (form.elements.near) form.elements.near.value = "";
        form.submit();
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-suggest]").forEach(attach);
    document.querySelectorAll("button[data-near-me]").forEach(nearMe);
  });
})();
