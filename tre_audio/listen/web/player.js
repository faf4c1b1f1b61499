// tre-audio's page: chapter links seek the player, the transcript follows along.
// Without JavaScript the page still works: the links open the MP3 at their time.
"use strict";
(function () {
  var audio = document.getElementById("player");
  if (!audio) {
    return;
  }

  function seek(seconds) {
    audio.currentTime = seconds;
    var playing = audio.play();
    if (playing && playing.catch) {
      playing.catch(function () {});  // a browser that wants a tap on play first
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-seek]"), function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      seek(parseFloat(link.getAttribute("data-seek")));
    });
  });

  function latest(items, seconds) {
    // The last item (in time order) that starts at or before `seconds`.
    var low = 0, high = items.length - 1, found = null;
    while (low <= high) {
      var middle = (low + high) >> 1;
      if (parseFloat(items[middle].getAttribute("data-start")) <= seconds + 0.001) {
        found = items[middle];
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }

  var cues = Array.prototype.slice.call(document.querySelectorAll(".cue"));
  var chapters = Array.prototype.slice.call(document.querySelectorAll(".chapter"));
  chapters.forEach(function (link) {
    link.setAttribute("data-start", link.getAttribute("data-seek"));
  });
  var box = document.getElementById("transcript");
  var follow = document.getElementById("follow");
  if (follow) {
    follow.parentNode.hidden = false;
  }
  var cue = null, chapter = null;

  function update() {
    var now = latest(cues, audio.currentTime);
    if (now !== cue) {
      if (cue) {
        cue.classList.remove("now");
      }
      cue = now;
      if (cue) {
        cue.classList.add("now");
        if (box && (!follow || follow.checked)) {
          box.scrollTop = cue.offsetTop - box.offsetTop - box.clientHeight / 3;
        }
      }
    }
    var part = latest(chapters, audio.currentTime);
    if (part !== chapter) {
      if (chapter) {
        chapter.removeAttribute("aria-current");
      }
      chapter = part;
      if (chapter) {
        chapter.setAttribute("aria-current", "true");
      }
    }
  }

  audio.addEventListener("timeupdate", update);
  audio.addEventListener("seeked", update);
  update();
})();
