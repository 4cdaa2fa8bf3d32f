/* A signature drawn with a finger, pen or mouse on the consent page. Without this script
   the drawing box stays hidden and the patient signs with their typed name only. */
(function () {
  "use strict";
  document.querySelectorAll("[data-signature]").forEach(function (box) {
    var canvas = box.querySelector("canvas");
    var input = document.getElementById(box.getAttribute("data-signature"));
    var clear = box.querySelector("[data-signature-clear]");
    var context = canvas.getContext("2d");
    var drawing = false;

    function fit() {
      var ratio = window.devicePixelRatio || 1;
      var kept = input.value;
      canvas.width = canvas.clientWidth * ratio;
      canvas.height = canvas.clientHeight * ratio;
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.lineWidth = 2.5;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.strokeStyle = "#111";
      if (kept) {
        var image = new Image();
        image.onload = function () {
          context.drawImage(image, 0, 0, canvas.clientWidth, canvas.clientHeight);
        };
        image.src = kept;
      }
    }

    function at(event) {
      var box = canvas.getBoundingClientRect();
      return [event.clientX - box.left, event.clientY - box.top];
    }

    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      var point = at(event);
      context.beginPath();
      context.moveTo(point[0], point[1]);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var point = at(event);
      context.lineTo(point[0], point[1]);
      context.stroke();
    });
    function stop() {
      if (!drawing) { return; }
      drawing = false;
      input.value = canvas.toDataURL("image/png");
    }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    clear.addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height);
      input.value = "";
    });
    box.hidden = false;
    fit();
  });
})();
