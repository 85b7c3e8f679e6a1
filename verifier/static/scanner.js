// HR's webcam scanner. Snapshots of the camera go to the server, which
// decodes them with zxing-cpp, and the first QR code read fills the scan
// field and sends the form. Without a camera the field and upload still work.
(function () {
  "use strict";
  var root = document.getElementById("scanner");
  var form = document.getElementById("receive-form");
  if (!root || !form) {
    return;
  }
  var video = root.querySelector("video");
  var canvas = root.querySelector("canvas");
  var status = root.querySelector("[data-scanner-status]");
  var startButton = root.querySelector("[data-scanner-start]");
  var field = form.querySelector("[name=scanned]");
  var csrfToken = form.querySelector("[name=csrf_token]").value;
  var endpoint = root.getAttribute("data-frame-url");
  // Snapshots are sent one at a time, at most this often.
  var intervalMs = 400;
  var stream = null;
  var timer = null;
  var busy = false;

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    status.textContent = "This browser cannot open a camera here; use the field or upload a picture.";
    startButton.hidden = true;
    return;
  }

  function stop() {
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
    }
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
  }

  function send(blob) {
    return fetch(endpoint, {
      method: "POST",
      body: blob,
      credentials: "same-origin",
      headers: { "Content-Type": "image/jpeg", "X-CSRFToken": csrfToken }
    }).then(function (response) {
      return response.ok ? response.json() : { text: null };
    });
  }

  function grab() {
    if (busy || video.readyState < 2 || !video.videoWidth) {
      return;
    }
    busy = true;
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob(function (blob) {
      send(blob).then(function (data) {
        if (data.text) {
          stop();
          field.value = data.text;
          status.textContent = "QR code read; receiving the passport.";
          form.submit();
        }
      }).catch(function () {
        status.textContent = "A snapshot could not be sent; still trying.";
      }).then(function () {
        busy = false;
      });
    }, "image/jpeg", 0.92);
  }

  startButton.addEventListener("click", function () {
    startButton.disabled = true;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        return video.play();
      })
      .then(function () {
        status.textContent = "Looking for a QR code. Hold it steady in front of the camera.";
        timer = setInterval(grab, intervalMs);
      })
      .catch(function (error) {
        startButton.disabled = false;
        status.textContent = "The camera could not be opened (" + error.name + "); use the field or upload a picture.";
      });
  });
  window.addEventListener("pagehide", stop);
})();
