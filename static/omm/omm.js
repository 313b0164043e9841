// Small helpers shared by the analyst pages.
(function () {
  "use strict";
  function cookie(name) {
    const match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }
  // Calls the OMM API with the browser session; resolves to the parsed JSON body.
  async function api(url, options) {
    const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    opts.headers = Object.assign({ Accept: "application/json" }, opts.headers);
    if (opts.body && typeof opts.body !== "string") {
      opts.body = JSON.stringify(opts.body);
      opts.headers["Content-Type"] = "application/json";
    }
    if (opts.method && opts.method !== "GET") opts.headers["X-CSRFToken"] = cookie("csrftoken");
    const response = await fetch(url, opts);
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const fallback = interpolate(gettext("The server answered with HTTP status %(status)s."), { status: response.status }, true);
      const error = new Error((body && body.message) || fallback);
      error.body = body;
      error.status = response.status;
      throw error;
    }
    return body;
  }
  // A task status code as the word the server renders (Task.status_word); unknown codes as they are.
  const TASK_STATUS = {
    pending: pgettext("task status", "pending"),
    queued: pgettext("task status", "queued"),
    running: pgettext("task status", "running"),
    completed: pgettext("task status", "completed"),
    failed: pgettext("task status", "failed"),
    cancelled: pgettext("task status", "cancelled"),
  };
  const taskStatusWord = (code) => TASK_STATUS[code] || code;
  window.OMM = { api: api, cookie: cookie, taskStatusWord: taskStatusWord };
})();
