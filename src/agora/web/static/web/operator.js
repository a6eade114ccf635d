// Operator console: a "select all" box for bulk actions. Progressive: without scripts the
// boxes are ticked one by one and the form works the same.
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (!all) return;
  const name = all.getAttribute("data-select-all");
  for (const box of document.querySelectorAll(`input[type="checkbox"][name="${name}"]`)) {
    box.checked = all.checked;
  }
});
