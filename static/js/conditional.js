// Hide follow-up questions whose condition is not met; without JavaScript all are shown
// with a sentence saying when to answer them, and the server ignores the rest.
(function () {
  "use strict";
  function currentValue(form, name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : null;
  }
  function update(form) {
    form.querySelectorAll("[data-show-if-item]").forEach(function (block) {
      var wanted = block.getAttribute("data-show-if-values").split(" ");
      var parent = form.querySelector('[data-show-if-item] input[name="' + block.getAttribute("data-show-if-item") + '"]');
      var parentHidden = parent && parent.closest("[hidden]");
      var shown = !parentHidden && wanted.indexOf(currentValue(form, block.getAttribute("data-show-if-item"))) !== -1;
      block.hidden = !shown;
      block.querySelectorAll("input, textarea, select").forEach(function (el) { el.disabled = !shown; });
      var note = block.querySelector(".condition");
      if (note) { note.hidden = true; }
    });
  }
  document.querySelectorAll("form.survey").forEach(function (form) {
    form.addEventListener("change", function () { update(form); });
    update(form);
  });
})();
