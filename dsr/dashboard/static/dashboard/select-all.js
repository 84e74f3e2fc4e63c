// "Select all" checkbox of the request queue. A file rather than an inline onclick: the content
// security policy (dsr/security.py) allows scripts from our own origin only.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.dataset.selectAll) return;
  for (const item of document.querySelectorAll(`input[name="${box.dataset.selectAll}"]`)) {
    item.checked = box.checked;
  }
});
