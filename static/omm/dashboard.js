(function () {
  "use strict";
  const traffic = JSON.parse(document.getElementById("traffic-data").textContent);
  const canvas = document.getElementById("traffic-chart");
  if (canvas && window.Chart) {
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: traffic.map((r) => r.hour.slice(11, 16)),
        datasets: [
          { label: pgettext("api calls", "ok"), data: traffic.map((r) => r.ok), backgroundColor: "#3b7dd8" },
          { label: pgettext("api calls", "failed"), data: traffic.map((r) => r.failed), backgroundColor: "#d9534f" },
        ],
      },
      options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    });
  }

  const form = document.getElementById("ping-form");
  if (!form) return;
  const output = document.getElementById("ping-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    output.textContent = gettext("Sent; waiting for a worker…");
    output.className = "";
    try {
      const created = await OMM.api(form.dataset.url, { method: "POST", body: { queue: form.queue.value } });
      const url = form.dataset.url + "/" + created.data.id;
      for (let i = 0; i < 60; i++) {
        await new Promise((r) => setTimeout(r, 500));
        const ping = await OMM.api(url);
        if (ping.completedAt) {
          output.textContent = interpolate(
            gettext("Answered by %(worker)s in %(ms)s ms"),
            { worker: ping.worker, ms: Math.round(ping.roundTripMs) },
            true
          );
          output.className = "ok";
          return;
        }
      }
      output.textContent = gettext("No worker answered within 30 s.");
      output.className = "error";
    } catch (error) {
      output.textContent = interpolate(gettext("Failed: %(error)s"), { error: error.message }, true);
      output.className = "error";
    }
  });
})();
