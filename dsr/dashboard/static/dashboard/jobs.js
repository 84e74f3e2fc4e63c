// Live refresh of a request's system jobs on the detail page, while work is under way.
// A static file (the content security policy allows no inline script). It polls the page's JSON
// endpoint every few seconds, updates the cells in place (focus and scroll stay where they are),
// announces each change once through a polite live region, offers a button to stop, and stops by
// itself when no job is left running. Without JavaScript the page still works: reload it.
(() => {
  const section = document.getElementById("jobs");
  if (!section || !section.dataset.pollUrl) return;
  const live = document.getElementById("jobs-live");
  const toggle = document.getElementById("jobs-live-toggle");
  const status = document.querySelector("#status strong");
  const every = 5000;
  let timer = null;
  let stopped = false;

  const setCell = (row, name, value) => {
    const cell = row.querySelector(`[data-field="${name}"]`);
    if (!cell) return;
    const text = value === null || value === undefined || value === "" ? (name === "error" ? "" : "—") : String(value);
    if (cell.textContent !== text) cell.textContent = text;
  };

  const apply = (data) => {
    const changes = [];
    for (const job of data.jobs) {
      const row = section.querySelector(`tr[data-job="${job.id}"]`);
      if (!row) continue;
      const badge = row.querySelector(".badge");
      if (badge && badge.textContent !== job.status_display) {
        badge.textContent = job.status_display;
        badge.className = `badge ${job.status}`;
        changes.push(`${job.system}: ${job.status_display}`);
      }
      for (const name of ["records_found", "records_erased", "records_retained", "attempts", "error"]) {
        setCell(row, name, job[name]);
      }
    }
    if (status && status.textContent !== data.status_display) {
      status.textContent = data.status_display;
      changes.push(data.status_display);
    }
    if (changes.length && live) live.textContent = changes.join(". ");
    if (!data.live) finish(true);
  };

  const finish = (done) => {
    stopped = true;
    if (timer) clearTimeout(timer);
    if (toggle) toggle.hidden = true;
    if (done) {
      const running = document.getElementById("jobs-live-running");
      const note = document.getElementById("jobs-live-done");
      if (running) running.hidden = true;
      if (note) note.hidden = false;
    }
  };

  const poll = async () => {
    if (stopped) return;
    try {
      const response = await fetch(section.dataset.pollUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) apply(await response.json());
    } catch (error) {
      // A network blip: try again at the next tick.
    }
    if (!stopped) timer = setTimeout(poll, every);
  };

  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", () => {
      finish(false);
      if (live) live.textContent = toggle.dataset.stoppedText || "";
    });
  }
  timer = setTimeout(poll, every);
})();
