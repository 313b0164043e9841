// Follows a version's validation while it runs, then reloads to show the result.
(function () {
  "use strict";
  const card = document.getElementById("version");
  if (!card || card.dataset.running !== "1") return;
  const bar = document.getElementById("progress-bar");
  const text = document.getElementById("progress-text");
  const status = document.getElementById("status");
  // The badge shows the status in the page's language; its class keeps the code.
  const STATUS_TEXT = {
    uploaded: pgettext("dataset status", "uploaded"),
    validating: pgettext("dataset status", "validating"),
    validated: pgettext("dataset status", "validated"),
    error: pgettext("dataset status", "error"),
  };
  async function poll() {
    try {
      const v = await OMM.api(card.dataset.statusUrl);
      bar.style.width = v.progress + "%";
      text.textContent = Math.round(v.progress) + "%";
      status.textContent = STATUS_TEXT[v.status] || v.status;
      status.className = "badge " + v.status;
      if (v.status === "validated" || v.status === "error") {
        window.location.reload();
        return;
      }
    } catch (error) {
      text.textContent = interpolate(gettext("could not read progress: %(error)s"), { error: error.message }, true);
    }
    setTimeout(poll, 700);
  }
  setTimeout(poll, 300);
})();
