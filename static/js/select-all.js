// "Select all" per region on the new-campaign form: ticks or clears that region's boxes.
// Without JavaScript the server adds the whole region when its box is ticked.
document.querySelectorAll("input[data-select-all]").forEach((all) => {
  const region = all.closest("fieldset.region");
  const boxes = region.querySelectorAll("ul input[type=checkbox]");
  all.addEventListener("change", () => {
    boxes.forEach((box) => { box.checked = all.checked; });
  });
});
