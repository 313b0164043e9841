// The training form: column choices and label follow the dataset, parameter defaults follow
// the algorithm, and the schedule fields show only when a schedule is chosen.
(function () {
  "use strict";
  const form = document.getElementById("training-form");
  if (!form) return;
  const datasets = JSON.parse(document.getElementById("training-datasets").textContent);
  const defaults = JSON.parse(document.getElementById("default-params").textContent);
  const field = (name) => form.elements[name];
  const wrapper = (name) => document.getElementById("field-" + name);
  const newest = (version) => interpolate(gettext("newest validated (v%(version)s)"), { version: version }, true);

  function fillColumns() {
    const info = datasets[field("dataset").value] || { columns: [] };
    const select = field("features");
    select.replaceChildren(
      ...info.columns.map((c) => new Option(c.dtype ? c.name + " (" + c.dtype + ")" : c.name, c.name))
    );
    return info;
  }

  function datasetChanged() {
    const info = fillColumns();
    field("label").value = info.label || "";
    field("time_column").placeholder = info.timeColumn || "";
    field("dataset_version").placeholder = info.version ? newest(info.version) : "";
  }

  function algorithmChanged() {
    field("params").value = JSON.stringify(defaults[field("algorithm").value] || {}, null, 2);
  }

  function featureSetChanged() {
    // A feature set brings its own columns; the service refuses both at once.
    const select = field("features");
    select.disabled = field("feature_set").value !== "";
    if (select.disabled) Array.from(select.options).forEach((o) => { o.selected = false; });
  }

  function scheduleChanged() {
    const kind = field("schedule").value;
    wrapper("schedule_name").hidden = kind === "";
    wrapper("every_minutes").hidden = kind !== "interval";
    wrapper("cron").hidden = kind !== "cron";
    form.querySelector("button[type=submit]").textContent = kind ? gettext("Save schedule") : gettext("Start training");
  }

  field("dataset").addEventListener("change", datasetChanged);
  field("algorithm").addEventListener("change", algorithmChanged);
  field("feature_set").addEventListener("change", featureSetChanged);
  field("schedule").addEventListener("change", scheduleChanged);
  if (field("features").options.length === 0) fillColumns();
  const info = datasets[field("dataset").value];
  if (info) {
    field("time_column").placeholder = info.timeColumn || "";
    field("dataset_version").placeholder = newest(info.version);
  }
  featureSetChanged();
  scheduleChanged();
})();
