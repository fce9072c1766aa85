// The admin's card photo form: take the photo with the computer's camera instead of choosing a file.
// The frame's middle is cropped to a 3:4 portrait and put into the form's file field as a JPEG, so it is
// sent, checked and re-encoded exactly like an uploaded file. Without a camera the field works as before.
(function () {
  "use strict";

  function init() {
  document.querySelectorAll(".onecard-camera").forEach(function (box) {
    var input = document.getElementById(box.dataset.input);
    var media = navigator.mediaDevices;
    if (!input || !media || !media.getUserMedia || typeof DataTransfer === "undefined") {
      return;
    }
    var video = box.querySelector(".onecard-camera-video");
    var open = box.querySelector(".onecard-camera-open");
    var take = box.querySelector(".onecard-camera-take");
    var status = box.querySelector(".onecard-camera-status");
    var preview = box.querySelector(".onecard-camera-preview");
    var stream = null;
    box.hidden = false;

    function stop() {
      if (stream) {
        stream.getTracks().forEach(function (track) { track.stop(); });
        stream = null;
      }
      delete video.dataset.ready;
      video.hidden = true;
      take.hidden = true;
      open.hidden = false;
    }

    open.addEventListener("click", function () {
      if (open.disabled) {
        return;
      }
      open.disabled = true; // one stream at a time, while the browser asks for permission
      status.textContent = "";
      preview.hidden = true;
      media.getUserMedia({ video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 960 } }, audio: false })
        .then(function (opened) {
          stream = opened;
          video.addEventListener("loadedmetadata", function () { video.dataset.ready = "1"; }, { once: true });
          video.srcObject = opened;
          video.hidden = false;
          take.hidden = false;
          open.hidden = true;
          open.disabled = false;
        })
        .catch(function () {
          stop();
          open.disabled = false;
          status.textContent = box.dataset.error;
        });
    });

    take.addEventListener("click", function () {
      var width = video.videoWidth;
      var height = video.videoHeight;
      if (!width || !height) {
        return;
      }
      var cropWidth = Math.min(width, Math.round(height * 3 / 4));
      var cropHeight = Math.min(height, Math.round(cropWidth * 4 / 3));
      var canvas = document.createElement("canvas");
      canvas.width = cropWidth;
      canvas.height = cropHeight;
      canvas.getContext("2d").drawImage(
        video, (width - cropWidth) / 2, (height - cropHeight) / 2, cropWidth, cropHeight, 0, 0, cropWidth, cropHeight
      );
      canvas.toBlob(function (blob) {
        try {
          var files = new DataTransfer();
          files.items.add(new File([blob], "camera.jpg", { type: "image/jpeg" }));
          input.files = files.files;
          // A data: URL, which the page's CSP allows for images (blob: it does not).
          preview.src = canvas.toDataURL("image/jpeg", 0.8);
          preview.hidden = false;
          status.textContent = box.dataset.taken;
        } catch (error) {
          status.textContent = box.dataset.error;
        } finally {
          stop(); // the camera is released whatever happened
        }
      }, "image/jpeg", 0.92);
    });
  });
  }

  // The admin loads form media in the page's head, before the form exists.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
