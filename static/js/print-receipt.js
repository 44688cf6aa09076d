// Progressive enhancement only: without scripts the receipt page says how to print it.
// Shows the button that opens the browser's print dialog (the print stylesheet keeps the code
// and the address of the status page, nothing else).
(function () {
  "use strict";
  var button = document.getElementById("print-receipt");
  if (!button || typeof window.print !== "function") {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
})();
