// Kefu's small amount of JavaScript: pages work without it; this makes them live.
(function () {
  "use strict";
  function connect() {
    var body = document.body;
    var ticketId = body.getAttribute("data-ticket-id");
    var live = body.hasAttribute("data-live");
    if (!live || !window.WebSocket) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/live/");
    socket.onopen = function () {
      if (ticketId) socket.send(JSON.stringify({ subscribe: "ticket", id: parseInt(ticketId, 10) }));
    };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (!data.kind) return;
      document.body.dispatchEvent(new CustomEvent("kefu:" + data.kind, { detail: data }));
      if (window.htmx) htmx.trigger(document.body, "kefu-live", data);
    };
    socket.onclose = function () { setTimeout(connect, 5000); };
  }
  document.addEventListener("DOMContentLoaded", connect);
})();
