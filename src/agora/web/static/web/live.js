/* Live updates: parts of a page that refresh themselves when the server says so.

   A part opts in with data attributes (no inline script; the CSP forbids it):
     id="..."                        required: the part is re-fetched and swapped by id
     data-live-stream="/api/v1/events"   the Server-Sent Events stream to listen to
     data-live-events="booking.updated order.updated"   which events concern it
     data-live-subject="booking:12"  optional: only events about this object
     data-live-url="/account/status/"    optional: what to fetch (default: this page)
     data-live-after="123"           optional: the stream position when the page was made,
                                     so nothing between the render and the connection is missed
     data-live-dispatch="name"       instead of re-fetching, dispatch the DOM event `name` on
                                     <body> (for parts that refresh themselves on it: the bell)
   One EventSource per stream for the whole page; the browser reconnects by itself with
   Last-Event-ID and the server replays what was missed. A part the visitor is typing in
   (or has a <details> open in) waits until they are done. */
(function () {
  "use strict";

  var sources = {};
  var DEBOUNCE_MS = 150;
  var BUSY_RETRY_MS = 1000;

  function words(value) {
    return (value || "").split(/\s+/).filter(Boolean);
  }

  /* "booking:12", plus the objects the event names: its `subject` ("booking:12" for a
     message) and every `<kind>_id` ("order_id": 5 gives "order:5"). */
  function subjectsOf(name, data) {
    var kind = name.split(".")[0];
    var found = [kind + ":" + data.id];
    if (data.subject) { found.push(String(data.subject)); }
    Object.keys(data).forEach(function (key) {
      if (key.length > 3 && key.slice(-3) === "_id" && data[key] !== null) {
        found.push(key.slice(0, -3) + ":" + data[key]);
      }
    });
    return found;
  }

  function busy(part) {
    var active = document.activeElement;
    if (active && part.contains(active)) {
      var tag = active.tagName;
      var typing = tag === "TEXTAREA" || tag === "SELECT" ||
        (tag === "INPUT" && !/^(button|submit|reset|hidden|checkbox|radio)$/i.test(active.type));
      if (typing) { return true; }
    }
    if (part.querySelector("details[open]")) { return true; }
    /* Typed into and left: still the visitor's, not to be thrown away by a refresh. */
    var fields = part.querySelectorAll("input, textarea");
    for (var i = 0; i < fields.length; i += 1) {
      var field = fields[i];
      var text = field.tagName === "TEXTAREA" || /^(text|search|email|tel|url|number|date|time)$/i.test(field.type);
      if (text && field.value !== field.defaultValue) { return true; }
    }
    return false;
  }

  function refresh(part) {
    if (!part.id || !document.getElementById(part.id)) { return; }
    if (busy(part)) {
      window.setTimeout(function () { refresh(document.getElementById(part.id) || part); }, BUSY_RETRY_MS);
      return;
    }
    var url = part.getAttribute("data-live-url") || (window.location.pathname + window.location.search);
    window.htmx.ajax("GET", url, { target: "#" + part.id, select: "#" + part.id, swap: "outerHTML" });
  }

  function schedule(part) {
    var dispatch = part.getAttribute("data-live-dispatch");
    if (dispatch) {
      document.body.dispatchEvent(new CustomEvent(dispatch, { bubbles: true }));
      return;
    }
    if (part.liveTimer) { return; }
    part.liveTimer = window.setTimeout(function () {
      part.liveTimer = null;
      refresh(part);
    }, DEBOUNCE_MS);
  }

  function deliver(stream, name, data) {
    var subjects = subjectsOf(name, data);
    document.querySelectorAll("[data-live-stream]").forEach(function (part) {
      if (part.getAttribute("data-live-stream") !== stream) { return; }
      if (words(part.getAttribute("data-live-events")).indexOf(name) < 0) { return; }
      var subject = part.getAttribute("data-live-subject");
      if (subject && subjects.indexOf(subject) < 0) { return; }
      schedule(part);
    });
  }

  function listen(stream, name) {
    var entry = sources[stream];
    if (entry.names[name]) { return; }
    entry.names[name] = true;
    entry.source.addEventListener(name, function (message) {
      var data;
      try { data = JSON.parse(message.data); } catch (error) { return; }
      deliver(stream, name, data);
    });
  }

  function open(part) {
    var stream = part.getAttribute("data-live-stream");
    if (!stream || typeof window.EventSource !== "function") { return; }
    if (!sources[stream]) {
      /* The oldest render position of the parts on this stream: none of them misses anything. */
      var after = null;
      document.querySelectorAll("[data-live-after]").forEach(function (each) {
        var value = parseInt(each.getAttribute("data-live-after"), 10);
        if (each.getAttribute("data-live-stream") === stream && !isNaN(value) && (after === null || value < after)) {
          after = value;
        }
      });
      var url = stream;
      if (after !== null) { url += (stream.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + after; }
      var source = new window.EventSource(url);
      sources[stream] = { source: source, names: {} };
      document.documentElement.setAttribute("data-live", "connecting");
      source.addEventListener("open", function () {
        document.documentElement.setAttribute("data-live", "open");
      });
    }
    words(part.getAttribute("data-live-events")).forEach(function (name) { listen(stream, name); });
  }

  function scan(root) {
    if (root.matches && root.matches("[data-live-stream]")) { open(root); }
    if (root.querySelectorAll) { root.querySelectorAll("[data-live-stream]").forEach(open); }
  }

  function init() {
    scan(document);
    /* Parts that arrive later (the slots fragment on a listing page) open their stream then. */
    document.body.addEventListener("htmx:load", function (event) { scan(event.target); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
