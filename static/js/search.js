// Search form helpers: "use my location" and showing the stage of pregnancy only when it applies.
(function () {
  "use strict";
  var form = document.querySelector("form.search-form");
  if (!form) { return; }
  var button = document.getElementById("use-location");
  if (button && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.querySelector('input[name="lat"]').value = pos.coords.latitude.toFixed(6);
        form.querySelector('input[name="lng"]').value = pos.coords.longitude.toFixed(6);
        form.querySelector('input[name="near"]').value = "";
        form.submit();
      });
    });
  }
  var near = form.querySelector('input[name="near"]');
  if (near) {
    near.addEventListener("input", function () {
      form.querySelector('input[name="lat"]').value = "";
      form.querySelector('input[name="lng"]').value = "";
    });
  }
  var trimester = form.querySelector('select[name="trimester"]');
  function update() {
    var checked = form.querySelector('input[name="situation"]:checked');
    var pregnant = checked && checked.value === "pregnant";
    if (trimester) { trimester.closest(".question").hidden = !pregnant; }
  }
  form.addEventListener("change", update);
  update();
})();
