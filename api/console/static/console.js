// The ops console's only script (served by the API; the Content-Security-Policy allows no other).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // A button that starts an execution asks first.
  for (const button of document.querySelectorAll("button.confirm")) {
    button.form.addEventListener("submit", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  }
  // Compare takes two executions: ticking a third unticks the first ticked.
  const compare = document.getElementById("compare");
  if (compare) {
    const ticked = [];
    const button = compare.querySelector("button");
    const update = () => { button.disabled = ticked.length !== 2; };
    for (const box of compare.querySelectorAll("input[name=pick]")) {
      box.addEventListener("change", () => {
        if (box.checked) {
          ticked.push(box);
          if (ticked.length > 2) ticked.shift().checked = false;
        } else {
          ticked.splice(ticked.indexOf(box), 1);
        }
        update();
      });
    }
    update();
  }
});
