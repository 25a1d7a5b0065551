// The digitrec page: draw on a canvas or drop a photo, and see what the model reads.
// Plain JavaScript talking to the REST API of the same server; nothing is loaded from elsewhere.
"use strict";

const API = "/api/v1";
const READ_INTERVAL_MS = 150; // between reads while drawing, so a stroke is not read point by point
const STROKE = 1 / 13; // marker width as a share of the pad: MNIST strokes are ~2 px of 28
const SENT_SIZE = 112; // pixels a side of the drawing as sent to the server
const $ = (id) => document.getElementById(id);

const pad = $("pad");
const padContext = pad.getContext("2d");
const strokes = []; // each stroke a list of [x, y] in pad pixels, so undo can redraw the rest
let drawing = null;
let timer = null; // the pending read, if any
let inFlight = false;
let pending = false; // the drawing changed while a request was out: read it again after
let lastPhoto = null; // the last photo File, read again when the model changes
let chosenDigit = 0; // which digit of the reading the bar chart shows
const DIGITS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
const classesOf = {}; // model name -> its class names, from /api/v1/models

// ---------- messages ----------

function showStatus(message) {
  const status = $("status");
  status.textContent = message;
  status.hidden = !message;
}

async function callApi(path, options) {
  // The server's JSON `detail` is one line naming the problem; show it as it is.
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new Error("cannot reach the digitrec server; is `digitrec serve` still running?");
  }
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    body = null;
  }
  if (!response.ok) {
    const detail = body && typeof body.detail === "string" ? body.detail : response.statusText;
    throw new Error(`${detail} (HTTP ${response.status})`);
  }
  return body;
}

function predictUrl(single) {
  const query = new URLSearchParams({ probabilities: "true", single: String(single) });
  const model = $("model").value;
  if (model) query.set("model", model);
  return `${API}/predict?${query}`;
}

// ---------- drawing ----------

function clearPad() {
  padContext.fillStyle = "#fff";
  padContext.fillRect(0, 0, pad.width, pad.height);
}

function drawStroke(points) {
  padContext.strokeStyle = "#000";
  padContext.fillStyle = "#000";
  padContext.lineWidth = pad.width * STROKE;
  padContext.lineCap = "round";
  padContext.lineJoin = "round";
  if (points.length === 1) {
    // A tap is a dot.
    padContext.beginPath();
    padContext.arc(points[0][0], points[0][1], padContext.lineWidth / 2, 0, 2 * Math.PI);
    padContext.fill();
    return;
  }
  padContext.beginPath();
  padContext.moveTo(points[0][0], points[0][1]);
  for (const [x, y] of points.slice(1)) padContext.lineTo(x, y);
  padContext.stroke();
}

function redraw() {
  clearPad();
  strokes.forEach(drawStroke);
}

function padPoint(event) {
  // The pad is scaled by CSS; map screen pixels to its own 280x280 pixels.
  const rect = pad.getBoundingClientRect();
  return [
    ((event.clientX - rect.left) * pad.width) / rect.width,
    ((event.clientY - rect.top) * pad.height) / rect.height,
  ];
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  pad.setPointerCapture(event.pointerId);
  drawing = [padPoint(event)];
  strokes.push(drawing);
  drawStroke(drawing);
  event.preventDefault();
});

pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  // Coalesced events keep fast pen and touch strokes smooth.
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const each of events.length ? events : [event]) drawing.push(padPoint(each));
  redraw();
  schedule();
});

function endStroke() {
  if (!drawing) return;
  drawing = null;
  schedule();
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

$("undo").addEventListener("click", () => {
  strokes.pop();
  redraw();
  schedule();
});

$("clear").addEventListener("click", () => {
  strokes.length = 0;
  redraw();
  schedule();
});

$("single").addEventListener("change", schedule);

function schedule() {
  // At most one read per READ_INTERVAL_MS while a stroke goes on, so the answer follows the pen;
  // each read takes the drawing as it is when it fires, so the last change is always read.
  if (timer !== null) return;
  timer = setTimeout(() => {
    timer = null;
    readPad();
  }, READ_INTERVAL_MS);
}

function padImage() {
  // The drawing at SENT_SIZE: the model sees 20x20 of it anyway, and the server's pipeline
  // costs about three times less on 112x112 than on 280x280.
  const small = document.createElement("canvas");
  small.width = small.height = SENT_SIZE;
  const context = small.getContext("2d");
  context.imageSmoothingQuality = "high";
  context.drawImage(pad, 0, 0, SENT_SIZE, SENT_SIZE);
  return new Promise((resolve) => small.toBlob(resolve, "image/png"));
}

async function readPad() {
  if (inFlight) {
    pending = true;
    return;
  }
  if (!strokes.length) {
    showReading(null, "draw something");
    return;
  }
  inFlight = true;
  try {
    const blob = await padImage();
    const reading = await callApi(predictUrl($("single").checked), {
      method: "POST",
      headers: { "Content-Type": "image/png" },
      body: blob,
    });
    if (strokes.length) showReading(reading);
    showStatus("");
  } catch (error) {
    showStatus(error.message);
  } finally {
    inFlight = false;
    if (pending) {
      pending = false;
      schedule();
    }
  }
}

// ---------- what the model read ----------

function buildChart(classes) {
  // One bar per class of the chosen model: the digits, or another data set's names.
  const chart = $("chart");
  chart.replaceChildren();
  for (const name of classes) {
    const row = document.createElement("li");
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = name;
    const track = document.createElement("span");
    track.className = "track";
    track.innerHTML = '<span class="fill"></span>';
    const value = document.createElement("span");
    value.className = "value";
    row.append(label, track, value);
    chart.appendChild(row);
  }
}

function showChart(probabilities) {
  const rows = $("chart").children;
  const best = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
  for (let digit = 0; digit < rows.length; digit++) {
    const p = probabilities ? probabilities[digit] || 0 : 0;
    rows[digit].querySelector(".fill").style.width = `${(p * 100).toFixed(1)}%`;
    rows[digit].querySelector(".value").textContent = probabilities ? `${(p * 100).toFixed(1)}%` : "";
    rows[digit].classList.toggle("top", digit === best);
  }
}

function showReading(reading, emptyText = "no digit found") {
  const answer = $("answer");
  const inputs = $("inputs");
  inputs.replaceChildren();
  answer.classList.toggle("placeholder", !reading || !reading.digits.length);
  if (!reading || !reading.digits.length) {
    answer.textContent = emptyText;
    $("confidence").textContent = "";
    showChart(null);
    return;
  }
  answer.textContent = reading.text;
  chosenDigit = Math.min(chosenDigit, reading.digits.length - 1);
  const choose = (index) => {
    chosenDigit = index;
    const digit = reading.digits[index];
    const flag = digit.low_confidence ? " (unsure)" : "";
    $("confidence").textContent = `${digit.digit}: ${(digit.confidence * 100).toFixed(1)}%${flag}`;
    showChart(reading.probabilities ? reading.probabilities[index] : null);
    inputs.querySelectorAll("img").forEach((img, i) => img.classList.toggle("chosen", i === index));
  };
  reading.inputs.forEach((png, index) => {
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.src = `data:image/png;base64,${png}`;
    img.alt = `28x28 input ${index + 1}, read as ${reading.digits[index].digit}`;
    img.title = "the 28x28 image the model saw; click to chart it";
    img.addEventListener("click", () => choose(index));
    const caption = document.createElement("figcaption");
    caption.textContent = String(reading.digits[index].digit);
    figure.append(img, caption);
    inputs.appendChild(figure);
  });
  choose(chosenDigit);
}

// ---------- photos ----------

async function readPhoto(file) {
  lastPhoto = file;
  const form = new FormData();
  form.append("file", file, file.name || "photo");
  $("photo-text").textContent = "reading…";
  $("photo-text").classList.add("placeholder");
  showStatus("");
  let reading;
  try {
    reading = await callApi(predictUrl(false), { method: "POST", body: form });
  } catch (error) {
    $("photo-text").textContent = "";
    $("photo").hidden = true;
    lastPhoto = null;
    $("photo-digits").replaceChildren();
    showStatus(error.message); // the server's message names the file already
    return;
  }
  // The answer shows once the photo with its boxes is drawn, so the two never disagree.
  await drawPhoto(file, reading);
  $("photo-text").textContent = reading.digits.length ? reading.text : "no digit found";
  $("photo-text").classList.toggle("placeholder", !reading.digits.length);
  showReading(reading);
}

async function drawPhoto(file, reading) {
  const canvas = $("photo");
  const list = $("photo-digits");
  list.replaceChildren();
  let image;
  try {
    // Browsers apply EXIF orientation here, as the server does, so the boxes line up.
    image = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (error) {
    canvas.hidden = true; // the server read it, but this browser cannot show it (TIFF, say)
    image = null;
  }
  if (image) {
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    const line = Math.max(2, Math.round(Math.max(image.width, image.height) / 250));
    context.lineWidth = line;
    context.font = `bold ${Math.max(14, line * 9)}px system-ui, sans-serif`;
    context.textBaseline = "bottom";
    for (const digit of reading.digits) {
      const [x, y, w, h] = digit.box;
      context.strokeStyle = digit.low_confidence ? "#e69500" : "#d1242f";
      context.strokeRect(x, y, w, h);
      const label = String(digit.digit);
      const width = context.measureText(label).width + line * 2;
      const height = line * 9 + line * 2;
      const top = y - height >= 0 ? y - height : y + h;
      context.fillStyle = context.strokeStyle;
      context.fillRect(x, top, width, height);
      context.fillStyle = "#fff";
      context.fillText(label, x + line, top + height - line);
    }
    canvas.hidden = false;
  }
  for (const digit of reading.digits) {
    const item = document.createElement("li");
    const [x, y, w, h] = digit.box;
    item.textContent = `${digit.digit} (${(digit.confidence * 100).toFixed(0)}%) at x ${x}, y ${y}, ${w}×${h}`;
    item.dataset.box = JSON.stringify(digit.box);
    list.appendChild(item);
  }
}

$("file").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (file) readPhoto(file);
  event.target.value = ""; // choosing the same file again reads it again
});

const drop = $("drop");
["dragenter", "dragover"].forEach((name) =>
  drop.addEventListener(name, (event) => {
    event.preventDefault();
    drop.classList.add("over");
  })
);
["dragleave", "drop"].forEach((name) =>
  drop.addEventListener(name, () => drop.classList.remove("over"))
);
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  const file = event.dataTransfer.files[0];
  if (file) readPhoto(file);
  else showStatus("drop an image file (PNG, JPEG, HEIC, WEBP, AVIF, BMP, TIFF or GIF)");
});
// A photo dropped next to the target should not make the browser navigate away from the page.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());

// ---------- models ----------

async function loadModels() {
  const select = $("model");
  try {
    const { models } = await callApi(`${API}/models`);
    for (const model of models) {
      const option = document.createElement("option");
      option.value = model.name;
      const accuracy = model.metrics && model.metrics.test_accuracy;
      const details = [model.architecture, accuracy ? `${(accuracy * 100).toFixed(2)}%` : null]
        .filter(Boolean)
        .join(", ");
      option.textContent = details ? `${model.name} (${details})` : model.name;
      option.selected = model.default;
      select.appendChild(option);
      if (model.classes) classesOf[model.name] = model.classes;
    }
    buildChart(classesOf[select.value] || DIGITS);
  } catch (error) {
    showStatus(`cannot list the models: ${error.message}`);
  }
}

$("model").addEventListener("change", () => {
  buildChart(classesOf[$("model").value] || DIGITS);
  if (strokes.length) schedule();
  if (lastPhoto) readPhoto(lastPhoto);
});

buildChart(DIGITS);
clearPad();
loadModels();
