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

// @mentions in the console's reply box (kefu/notifications): typing "@wa" offers the staff who
// can see this ticket; choosing one inserts "@handle ". Without JavaScript people type it.
(function () {
  "use strict";
  function setup() {
    var ticketId = document.body.getAttribute("data-ticket-id");
    var box = document.querySelector("#reply-form textarea");
    if (!ticketId || !box || box.dataset.mentions || document.body.classList.contains("portal-ticket")) return;
    box.dataset.mentions = "on";
    var list = document.createElement("ul");
    list.className = "mention-list";
    list.hidden = true;
    box.parentNode.insertBefore(list, box.nextSibling);
    var pending = null;
    function currentWord() {
      var before = box.value.slice(0, box.selectionStart);
      var match = /(^|[\s(（,，])@([^\s@]{0,40})$/.exec(before);
      return match ? { query: match[2], start: before.length - match[2].length - 1 } : null;
    }
    function choose(handle) {
      var word = currentWord();
      if (!word) return;
      var after = box.value.slice(box.selectionStart);
      box.value = box.value.slice(0, word.start) + "@" + handle + " " + after;
      var caret = word.start + handle.length + 2;
      box.setSelectionRange(caret, caret);
      list.hidden = true;
      box.focus();
    }
    box.addEventListener("input", function () {
      var word = currentWord();
      if (!word) { list.hidden = true; return; }
      if (pending) pending.abort();
      pending = new AbortController();
      fetch("/notifications/mentions/" + ticketId + "/?q=" + encodeURIComponent(word.query),
            { signal: pending.signal, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) {
          list.innerHTML = "";
          data.items.slice(0, 8).forEach(function (person) {
            var item = document.createElement("li");
            var button = document.createElement("button");
            button.type = "button";
            button.className = "link";
            button.textContent = person.name + " (@" + person.handle + ")";
            button.addEventListener("mousedown", function (e) { e.preventDefault(); choose(person.handle); });
            item.appendChild(button);
            list.appendChild(item);
          });
          list.hidden = data.items.length === 0;
        })
        .catch(function () {});
    });
    box.addEventListener("keydown", function (e) {
      if (e.key === "Escape") list.hidden = true;
    });
    box.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; }, 150); });
  }
  document.addEventListener("DOMContentLoaded", setup);
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.target && e.target.id === "reply-form") setup();
  });
})();
