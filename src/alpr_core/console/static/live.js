// The live page: reads as they are stored, from the API's GET /plates/stream (Server-Sent
// Events, sent with the session's cookie). The stream is closed while the tab is hidden and
// opened again when it shows. Text goes in with textContent only, never as HTML.
"use strict";
(function () {
  const list = document.querySelector("[data-live]");
  const status = document.getElementById("live-status");
  const MAX_ITEMS = 50;
  let source = null;

  function show(text) {
    status.textContent = text;
  }

  function text(tag, content, className) {
    const element = document.createElement(tag);
    element.textContent = content;
    if (className) element.className = className;
    return element;
  }

  function item(read) {
    const entry = document.createElement("li");
    const link = document.createElement("a");
    link.href = "/console/reads/" + encodeURIComponent(read.id);
    if (read.image_url) {
      const crop = document.createElement("img");
      crop.src = read.image_url;
      crop.alt = "Crop of read " + read.id;
      crop.width = 160;
      crop.height = 48;
      link.append(crop);
    }
    link.append(text("span", read.plate_text, "plate"));
    const when = text("time", read.timestamp);
    when.dateTime = read.timestamp;
    const place = read.camera_id + (read.site ? " · " + read.site : "");
    entry.append(link, text("span", place), when, text("span", Math.round(read.confidence * 100) + " %"));
    return entry;
  }

  function open() {
    if (source) return;
    source = new EventSource("/plates/stream");
    source.addEventListener("open", () => show("Live: new reads appear at the top."));
    source.addEventListener("read", (event) => {
      list.prepend(item(JSON.parse(event.data)));
      while (list.children.length > MAX_ITEMS) list.lastElementChild.remove();
    });
    source.addEventListener("error", () => {
      if (source && source.readyState === EventSource.CLOSED) {
        show("The stream ended: reload the page (you may need to sign in again).");
      } else {
        show("Reconnecting…");
      }
    });
  }

  function pause() {
    if (source) source.close();
    source = null;
    show("Paused while this tab is hidden.");
  }

  document.addEventListener("visibilitychange", () => (document.hidden ? pause() : open()));
  if (document.hidden) pause();
  else open();
})();
