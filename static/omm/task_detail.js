// A task's page: draws the loss curve from the round logs and, while the task runs, follows
// its progress (1 s) and new log rows; reloads once it ends to show the result.
(function () {
  "use strict";
  const card = document.getElementById("task");
  if (!card) return;
  const PAGE = 1000;
  const running = card.dataset.final !== "1";
  const bar = document.getElementById("progress-bar");
  const meter = document.getElementById("progress");
  const text = document.getElementById("progress-text");
  const badge = document.getElementById("status");
  const note = document.getElementById("poll-note");
  const empty = document.getElementById("chart-empty");
  const roundText = document.getElementById("round-text");
  const logTable = document.getElementById("logs");
  const logBody = logTable.querySelector("tbody");
  const logBox = logTable.closest(".scroll");
  // Level words as the server renders them (TaskLog.level_word).
  const LEVEL = {
    debug: pgettext("log level", "debug"),
    info: pgettext("log level", "info"),
    warning: pgettext("log level", "warning"),
    error: pgettext("log level", "error"),
  };
  let cursor = 0; // newest log row read from the API (and shown in the list)

  document.getElementById("show-rounds").addEventListener("change", (event) => {
    logTable.classList.toggle("with-rounds", event.target.checked);
  });

  const chart = new Chart(document.getElementById("loss-chart"), {
    type: "line",
    data: {
      labels: [],
      datasets: [
        { label: gettext("train loss"), data: [], borderColor: "#3b7dd8", backgroundColor: "#3b7dd8", pointRadius: 0, borderWidth: 2 },
        { label: gettext("valid loss"), data: [], borderColor: "#d9534f", backgroundColor: "#d9534f", pointRadius: 0, borderWidth: 2 },
      ],
    },
    options: {
      animation: false,
      spanGaps: true,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { title: { display: true, text: pgettext("training", "round") } },
        y: { title: { display: true, text: gettext("loss") } },
      },
    },
  });

  function addRow(row) {
    const tr = document.createElement("tr");
    tr.dataset.id = row.id;
    tr.className = row.level + (row.step !== null && row.step !== undefined ? " round" : "");
    for (const value of [(row.createdAt || "").slice(11, 19), LEVEL[row.level] || row.level, row.message]) {
      const td = document.createElement("td");
      td.textContent = value;
      tr.appendChild(td);
    }
    logBody.appendChild(tr);
  }

  // Reads every log row after the cursor into the chart and the list; returns the task
  // status the API reported. The first read replaces the list the server rendered (the
  // newest rows only) with the whole log.
  async function readLogs() {
    for (;;) {
      const body = await OMM.api(card.dataset.logsUrl + "?after=" + cursor + "&limit=" + PAGE);
      const rows = body.data || [];
      const atBottom = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 4;
      if (cursor === 0 && rows.length) logBody.replaceChildren();
      let lastRound = null;
      for (const row of rows) {
        if (row.step !== null && row.step !== undefined) {
          chart.data.labels.push(row.step);
          chart.data.datasets[0].data.push(row.loss);
          chart.data.datasets[1].data.push(row.validLoss);
          lastRound = row;
        }
        addRow(row);
      }
      if (rows.length) cursor = rows[rows.length - 1].id;
      if (lastRound) {
        chart.update("none");
        empty.hidden = true;
        roundText.textContent = "· " + lastRound.message;
      }
      if (atBottom) logBox.scrollTop = logBox.scrollHeight;
      if (rows.length < PAGE) return body.status;
    }
  }

  function showProgress(task) {
    const percent = Math.round(task.progress);
    bar.style.width = task.progress + "%";
    meter.setAttribute("aria-valuenow", String(percent));
    text.textContent = percent + "%";
    badge.textContent = OMM.taskStatusWord(task.status);
    badge.className = "badge " + task.status;
  }

  const FINAL = ["completed", "failed", "cancelled"];

  async function poll() {
    try {
      const task = await OMM.api(card.dataset.statusUrl + "?limit=1");
      showProgress(task);
      await readLogs();
      note.textContent = "";
      if (FINAL.includes(task.status)) {
        window.location.reload();
        return;
      }
    } catch (error) {
      note.textContent = interpolate(gettext("could not refresh: %(error)s"), { error: error.message }, true);
    }
    setTimeout(poll, 1000);
  }

  readLogs()
    .catch((error) => {
      note.textContent = interpolate(gettext("could not read the log: %(error)s"), { error: error.message }, true);
    })
    .finally(() => { if (running) setTimeout(poll, 1000); });
})();
