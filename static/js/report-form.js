// Progressive enhancement only: the form works fully without this file.
// Questions that apply only after a certain answer (data-show-if) are hidden until it is given.
(function () {
  "use strict";
  var form = document.querySelector(".report-form");
  if (!form) { return; }
  var dependents = form.querySelectorAll("[data-show-if]");

  function chosen(question) {
    var values = [];
    form.querySelectorAll('[name="' + question + '"]').forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") ? input.checked : input.value) {
        if (input.tagName === "SELECT") {
          values.push(input.value);
        } else if (input.type === "radio" || input.type === "checkbox") {
          values.push(input.value);
        }
      }
    });
    return values;
  }

  function update() {
    dependents.forEach(function (element) {
      var target = element.getAttribute("data-show-if");
      // A condition on a question of another step stays as the server showed it.
      if (!form.querySelector('[name="' + target + '"]')) { return; }
      var wanted = element.getAttribute("data-any-of").split(" ");
      var given = chosen(target);
      var visible = given.some(function (value) { return wanted.indexOf(value) !== -1; });
      // Keep a question with an error visible, so its message is never hidden.
      element.hidden = !visible && !element.classList.contains("has-error");
      var hint = element.querySelector(".condition");
      if (hint) { hint.hidden = true; }
    });
  }

  form.addEventListener("change", update);
  update();
}());
