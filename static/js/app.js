// wabadesk's only script besides htmx (the CSP allows no inline scripts).
// Countdown for the 24-hour window: <span data-window-closes="ISO-8601">…</span>
(function () {
  function fmt(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return h + "h " + String(m).padStart(2, "0") + "m " + String(sec).padStart(2, "0") + "s";
  }
  function tick() {
    document.querySelectorAll("[data-window-closes]").forEach(function (el) {
      const left = new Date(el.dataset.windowCloses).getTime() - Date.now();
      if (left <= 0) {
        el.textContent = "closed · templates only";
        el.classList.remove("open"); el.classList.add("closed");
        el.removeAttribute("data-window-closes");
      } else {
        el.textContent = "open · " + fmt(left) + " left";
      }
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  // Copy-to-clipboard buttons: <button data-copy-target="#id">
  document.addEventListener("click", function (e) {
    const btn = e.target.closest("[data-copy-target]");
    if (!btn) return;
    const el = document.querySelector(btn.dataset.copyTarget);
    if (el && navigator.clipboard) { navigator.clipboard.writeText(el.textContent); btn.textContent = "Copied"; }
  });
  // Confirm before destructive actions: <button data-confirm="Are you sure?">
  document.addEventListener("click", function (e) {
    const btn = e.target.closest("[data-confirm]");
    if (btn && !window.confirm(btn.dataset.confirm)) { e.preventDefault(); e.stopPropagation(); }
  }, true);
})();
