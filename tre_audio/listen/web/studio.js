// tre-audio's studio: the form says what length its answers can reach as they change,
// and a job's page follows the session being made. Without JavaScript the form has a
// "Check the length" button and the job's page refreshes itself.
"use strict";
(function () {
  var form = document.getElementById("studio");
  var reach = document.getElementById("reach");
  if (form && reach && window.fetch && window.URLSearchParams) {
    var asked = 0;
    var check = function () {
      var number = ++asked;
      var body = new URLSearchParams(new FormData(form));
      body.delete("do");
      fetch(form.getAttribute("data-reach"), {method: "POST", body: body,
                                              credentials: "same-origin"})
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (found) {
          if (!found || number !== asked) {
            return;
          }
          var words = found.reach ? "With these settings it can last " + found.reach + "." : "";
          if (found.error) {
            words = (words ? words + " " : "") + found.error;
          }
          reach.textContent = words;
        })
        .catch(function () {});
    };
    var waiting = null;
    form.addEventListener("change", function () {
      clearTimeout(waiting);
      waiting = setTimeout(check, 250);
    });
  }

  var job = document.getElementById("job");
  if (job && job.hasAttribute("data-follow") && window.fetch && window.DOMParser) {
    var follow = function () {
      fetch(window.location.href, {credentials: "same-origin"})
        .then(function (answer) { return answer.text(); })
        .then(function (text) {
          var page = new DOMParser().parseFromString(text, "text/html");
          var now = page.getElementById("job");
          if (!now) {
            return;
          }
          var listen = now.getAttribute("data-listen");
          if (listen) {
            window.location.assign(listen);
            return;
          }
          // the words change in place only when they change (they are read out), the
          // bar quietly; the cancel button stays as it is until the job is finished, so
          // that a tap on it is never lost to a redraw
          var state = document.getElementById("job-state");
          var newState = page.getElementById("job-state");
          if (state.textContent !== newState.textContent) {
            state.innerHTML = newState.innerHTML;
          }
          var bar = document.getElementById("progressing");
          var newBar = page.getElementById("progressing");
          if (bar && newBar) {
            document.getElementById("progress").value = page.getElementById("progress").value;
            document.getElementById("percent").textContent =
              page.getElementById("percent").textContent;
          } else if (bar) {
            bar.remove();
          } else if (newBar) {
            state.after(newBar);
          }
          var cancel = document.getElementById("cancel");
          if (cancel && !page.getElementById("cancel")) {
            cancel.remove();
          }
          document.title = page.title;
          var heading = page.querySelector("h1");
          if (heading) {
            document.querySelector("h1").textContent = heading.textContent;
          }
          if (now.hasAttribute("data-follow")) {
            setTimeout(follow, 1000);
          }
        })
        .catch(function () { setTimeout(follow, 3000); });
    };
    setTimeout(follow, 1000);
  }
})();
