// Progressive enhancement: a "Print" button on print views (the browser's own print works
// without it).
document.querySelectorAll(".js-print").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
