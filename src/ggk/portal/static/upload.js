// Browser upload for the portal: drag and drop or file picker, a progress bar, pause/resume and
// (form.dataset would be the form's <select name="dataset">, hence getAttribute)
// automatic resumption after a broken line (tus-js-client against the portal's tus endpoint).
// A page reload continues an unfinished upload of the same file (fingerprint in localStorage).
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.tus) { return; }
  var input = document.getElementById("bestand");
  var zone = document.getElementById("dropzone");
  var bar = document.getElementById("voortgang");
  var barBlock = document.getElementById("voortgang-blok");
  var status = document.getElementById("upload-status");
  var pause = document.getElementById("pauze");
  var resume = document.getElementById("hervat");
  var start = document.getElementById("start");
  var chosen = null;
  var upload = null;

  function say(text) { status.textContent = text; }
  function choose(file) {
    chosen = file;
    say(file ? "Gekozen: " + file.name + " (" + file.size.toLocaleString("nl-NL") + " bytes)" : "");
  }
  input.addEventListener("change", function () { choose(input.files[0] || null); });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault(); zone.classList.add("ggk-dropzone--over");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault(); zone.classList.remove("ggk-dropzone--over");
    });
  });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files.length) { choose(event.dataTransfer.files[0]); }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!chosen) { say("Kies eerst een bestand."); input.focus(); return; }
    var dataset = document.getElementById("dataset").value;
    upload = new tus.Upload(chosen, {
      endpoint: form.getAttribute("data-endpoint"),
      chunkSize: parseInt(form.getAttribute("data-chunk"), 10) || 8 * 1024 * 1024,
      retryDelays: [0, 1000, 2000, 3000, 5000, 10000, 20000],
      headers: { "X-CSRF-Token": form.getAttribute("data-csrf") },
      metadata: { filename: chosen.name, dataset: dataset, periode: form.getAttribute("data-periode") },
      removeFingerprintOnSuccess: true,
      onProgress: function (sent, total) {
        var pct = total ? Math.floor(sent * 100 / total) : 0;
        bar.value = pct; bar.textContent = pct + "%";
        say("Uploaden: " + pct + "% (" + sent.toLocaleString("nl-NL") + " van " + total.toLocaleString("nl-NL") + " bytes)");
      },
      onError: function (error) {
        say("De upload is gestopt: " + (error && error.message ? error.message : error) + ". Klik op Hervatten om verder te gaan.");
        pause.hidden = true; resume.hidden = false; start.disabled = false;
      },
      onSuccess: function () {
        bar.value = 100;
        say("Upload compleet. Het bestand wordt gecontroleerd...");
        var id = upload.url.split("/").pop();
        window.location.assign(form.getAttribute("data-result") + encodeURIComponent(id));
      }
    });
    barBlock.hidden = false; pause.hidden = false; resume.hidden = true; start.disabled = true;
    upload.findPreviousUploads().then(function (previous) {
      if (previous.length) {
        upload.resumeFromPreviousUpload(previous[0]);
        say("Een eerdere upload van dit bestand gaat verder.");
      }
      upload.start();
    });
  });
  pause.addEventListener("click", function () {
    if (upload) { upload.abort(); }
    pause.hidden = true; resume.hidden = false;
    say("Gepauzeerd. Klik op Hervatten om verder te gaan.");
    resume.focus();
  });
  resume.addEventListener("click", function () {
    if (upload) { upload.start(); }
    resume.hidden = true; pause.hidden = false; pause.focus();
  });
}());
