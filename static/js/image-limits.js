// Progressive enhancement only: the server checks the same limits and keeps the text.
// Says at once, before anything is sent, when more images or larger ones are chosen than the
// service takes, and holds the form back until the choice fits (setCustomValidity).
(function () {
  "use strict";
  document.querySelectorAll("input[type=file][data-max-files]").forEach(function (input) {
    var maxFiles = parseInt(input.getAttribute("data-max-files"), 10);
    var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10);
    var message = document.createElement("p");
    message.className = "field-error";
    message.id = input.id + "-limits";
    message.setAttribute("aria-live", "polite");
    message.hidden = true;
    input.insertAdjacentElement("afterend", message);

    input.addEventListener("change", function () {
      var problems = [];
      if (input.files.length > maxFiles) {
        problems.push(input.getAttribute("data-too-many"));
      }
      Array.prototype.forEach.call(input.files, function (file) {
        if (file.size > maxBytes) {
          problems.push(input.getAttribute("data-too-large").replace("{name}", file.name));
        }
      });
      var text = problems.join(" ");
      input.setCustomValidity(text);
      message.textContent = text;
      message.hidden = !text;
      if (text) {
        input.setAttribute("aria-invalid", "true");
      } else {
        input.removeAttribute("aria-invalid");
      }
    });
  });
}());
