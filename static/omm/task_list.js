// The task list: while a task on the page is unfinished, refreshes status, progress and the
// model version link of the page's rows every 2 s from the same page of /api/tasks.
(function () {
  "use strict";
  const table = document.getElementById("tasks");
  if (!table) return;
  const note = document.getElementById("refresh-note");
  const FINAL = ["completed", "failed", "cancelled"];
  const unfinished = () => table.querySelector("tbody tr[data-final='0']") !== null;

  function update(row, task) {
    const badge = row.querySelector("[data-role=status]");
    badge.textContent = OMM.taskStatusWord(task.status);
    badge.className = "badge " + task.status;
    const meter = row.querySelector(".progress");
    meter.firstElementChild.style.width = task.progress + "%";
    meter.setAttribute("aria-valuenow", String(Math.round(task.progress)));
    row.querySelector("[data-role=progress-text]").textContent = Math.round(task.progress) + "%";
    const cell = row.querySelector("[data-role=model-version]");
    const mv = task.modelVersion;
    if (mv && !cell.querySelector("a")) {
      const link = document.createElement("a");
      link.href = table.dataset.modelsUrl + mv.model + "/#v" + mv.version;
      link.textContent = mv.modelName + " v" + mv.version;
      cell.replaceChildren(link);
    }
    row.dataset.final = FINAL.includes(task.status) ? "1" : "0";
  }

  async function poll() {
    try {
      const body = await OMM.api(table.dataset.apiUrl);
      for (const task of body.data) {
        const row = table.querySelector("tbody tr[data-id='" + task.id + "']");
        if (row) update(row, task);
      }
      note.textContent = "";
    } catch (error) {
      note.textContent = "· " + interpolate(gettext("could not refresh: %(error)s"), { error: error.message }, true);
    }
    if (unfinished()) setTimeout(poll, 2000);
  }

  if (unfinished()) setTimeout(poll, 2000);
})();
