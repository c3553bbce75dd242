// Canned responses: a click on a search result inserts its text into the reply box.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-canned-text]");
    if (!button) return;
    var box = document.querySelector("#reply-form textarea[name=body]");
    if (!box) return;
    var text = button.getAttribute("data-canned-text");
    var start = box.selectionStart || box.value.length;
    var end = box.selectionEnd || box.value.length;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + text.length;
  });
})();
