// Search form helpers: "use my location" and showing a situation's details only when ticked.
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
        var known = form.querySelector('input[name="place_municipality"]');
        if (known) { known.value = ""; }
        form.submit();
      });
    });
  }
  var near = form.querySelector('input[name="near"]');
  if (near) {
    near.addEventListener("input", function () {
      form.querySelector('input[name="lat"]').value = "";
      form.querySelector('input[name="lng"]').value = "";
      var known = form.querySelector('input[name="place_municipality"]');
      if (known) { known.value = ""; }
    });
  }
  // Each situation's detail (stage of pregnancy, months since birth) shows when it is ticked.
  function update() {
    var boxes = form.querySelectorAll('input[name="situation"]');
    Array.prototype.forEach.call(boxes, function (box) {
      var detail = box.parentNode.querySelector(".sub-question");
      if (!detail) { return; }
      detail.hidden = !box.checked;
      // A hidden detail is not sent: a stage left over from an unticked situation is no error.
      Array.prototype.forEach.call(detail.querySelectorAll("select"), function (select) {
        select.disabled = !box.checked;
      });
    });
  }
  form.addEventListener("change", update);
  update();
})();
