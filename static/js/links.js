// The partner picker works without JavaScript (check boxes grouped by municipality); this adds
// a filter by name: matching facilities show, their groups open, the others hide.
(function () {
  "use strict";
  function normal(text) {
    return (text || "").normalize("NFKC").toLowerCase().replace(/\s+/g, "");
  }
  function filter(picker, words) {
    picker.querySelectorAll("details.links-group").forEach(function (group) {
      var matches = 0;
      group.querySelectorAll("li").forEach(function (row) {
        var shown = !words || normal(row.textContent).indexOf(words) !== -1;
        row.hidden = !shown;
        if (shown) { matches += 1; }
      });
      group.hidden = matches === 0;
      group.open = Boolean(words) && matches > 0;
    });
  }
  document.querySelectorAll("[data-links-picker]").forEach(function (picker) {
    var box = picker.querySelector("[data-links-filter]");
    if (!box) { return; }
    box.closest(".links-filter").hidden = false;
    box.addEventListener("input", function () { filter(picker, normal(box.value)); });
  });
})();
