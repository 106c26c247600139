// Add to the shortlist without leaving the results: the page stays where the nurse is, the
// button becomes a link to the list, and the header count goes up. Without this script the
// form posts and the server sends her back to the same card.
(function () {
  "use strict";
  var area = document.getElementById("results");
  if (!area || !window.fetch) { return; }
  var status = document.getElementById("shortlist-status");
  var count = document.getElementById("shortlist-count");

  function added(form, data) {
    var link = document.createElement("a");
    link.className = "button added";
    link.href = area.getAttribute("data-shortlist-url");
    link.textContent = area.getAttribute("data-added-label");
    var name = form.querySelector("button .visually-hidden");
    if (name) { link.appendChild(name.cloneNode(true)); }
    form.parentNode.replaceChild(link, form);
    link.focus({ preventScroll: true });
    if (count && typeof data.count === "number") { count.textContent = String(data.count); }
    if (status) { status.textContent = data.message || ""; }
  }

  area.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("shortlist-add")) { return; }
    event.preventDefault();
    var button = form.querySelector("button");
    if (button) { button.disabled = true; }
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (result.ok) { added(form, result.data); return; }
      form.submit();  // a refusal (list full): the plain post shows the message at the top
    }).catch(function () {
      form.submit();  // anything unexpected: the plain post still works
    });
  });
})();
