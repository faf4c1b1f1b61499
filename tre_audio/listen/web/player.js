// tre-audio's page: chapter links seek the player, the transcript follows along, the
// place and the speed are remembered on this device, and the lock screen shows the
// session and skips by chapter (Media Session).
// Without JavaScript the page still works: the links open the MP3 at their time.
"use strict";
(function () {
  var audio = document.getElementById("player");
  if (!audio) {
    return;
  }
  var SKIP = 15;  // seconds, back or forward
  var store = null;
  try {
    store = window.localStorage;
  } catch (error) {
    store = null;  // storage refused: nothing is remembered
  }
  var placeKey = "tre-audio:place:" + audio.getAttribute("data-id");
  var speedKey = "tre-audio:speed";

  function remember(key, value) {
    try {
      if (store) {
        if (value === null) {
          store.removeItem(key);
        } else {
          store.setItem(key, value);
        }
      }
    } catch (error) {
      // full or refused: the page works without it
    }
  }

  function recall(key) {
    try {
      return store ? store.getItem(key) : null;
    } catch (error) {
      return null;
    }
  }

  function play() {
    var playing = audio.play();
    if (playing && playing.catch) {
      playing.catch(function () {});  // a browser that wants a tap on play first
    }
  }

  function seek(seconds) {
    audio.currentTime = Math.max(0, seconds);
    play();
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
  var starts = chapters.map(function (link) {
    return parseFloat(link.getAttribute("data-seek"));
  });
  var box = document.getElementById("transcript");
  var follow = document.getElementById("follow");
  if (follow) {
    follow.parentNode.hidden = false;
  }
  var cue = null, chapter = null;

  function keepInView(line) {
    // the line a third of the way down the box, wherever the box is on the page
    var offset = line.getBoundingClientRect().top - box.getBoundingClientRect().top;
    box.scrollTop += offset - box.clientHeight / 3;
  }

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
          keepInView(cue);
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

  // Speed: 1x up to 1.5x, never slower (it would stretch the tremor past its time).
  var speed = document.getElementById("speed");
  var speeds = speed ? Array.prototype.map.call(speed.options, function (o) {
    return o.value;
  }) : [];

  function setSpeed(value) {
    if (speeds.indexOf(value) < 0) {
      value = "1";
    }
    speed.value = value;
    audio.defaultPlaybackRate = parseFloat(value);
    audio.playbackRate = parseFloat(value);
  }

  if (speed) {
    document.getElementById("speed-control").hidden = false;
    setSpeed(recall(speedKey) || "1");
    speed.addEventListener("change", function () {
      setSpeed(speed.value);
      remember(speedKey, speed.value);
    });
    audio.addEventListener("ratechange", function () {
      // a player's own menu: the select shows its speed, and none below 1x is taken
      var rate = audio.playbackRate;
      if (rate < 1) {
        setSpeed("1");
      } else if (speeds.indexOf(String(rate)) >= 0) {
        speed.value = String(rate);
      } else {
        speed.value = "";  // a speed of the player's own, past the page's choices
      }
    });
  }

  // The place: kept while playing and on leaving, offered again when the page is opened.
  var lastSaved = 0, started = false;
  audio.addEventListener("play", function () { started = true; });

  function savePlace(force) {
    var now = Date.now();
    if (!started || (!force && now - lastSaved < 5000)) {
      return;  // a page opened and left unplayed keeps the place it had
    }
    lastSaved = now;
    var left = (audio.duration || Infinity) - audio.currentTime;
    remember(placeKey, audio.currentTime > 10 && left > 20
      ? String(Math.floor(audio.currentTime)) : null);
  }

  audio.addEventListener("timeupdate", function () {
    if (!audio.paused) {
      savePlace(false);
    }
  });
  audio.addEventListener("pause", function () { savePlace(true); });
  audio.addEventListener("ended", function () {
    remember(placeKey, null);
    var checkin = document.getElementById("checkin");
    if (checkin && checkin.hidden) {  // the session is over: ask how it went
      checkin.hidden = false;
      document.getElementById("checkin-title").focus();
    }
  });
  window.addEventListener("pagehide", function () { savePlace(true); });

  function clock(seconds) {
    var whole = Math.floor(seconds), h = Math.floor(whole / 3600);
    var m = Math.floor(whole / 60) % 60, s = whole % 60;
    var mm = h ? (m < 10 ? "0" : "") + m : String(m);
    return (h ? h + ":" : "") + mm + ":" + (s < 10 ? "0" : "") + s;
  }

  var saved = parseFloat(recall(placeKey));
  var resume = document.getElementById("resume");
  if (resume && saved > 0) {
    var at = document.getElementById("resume-at");
    at.textContent = "Resume at " + clock(saved);
    resume.hidden = false;
    at.addEventListener("click", function () {
      resume.hidden = true;
      seek(saved);
    });
    document.getElementById("start-over").addEventListener("click", function () {
      resume.hidden = true;
      remember(placeKey, null);
      seek(0);
    });
    audio.addEventListener("play", function () { resume.hidden = true; });
  }

  // The lock screen and headphones: title, artwork, and skipping by 15 s or by chapter.
  if (!("mediaSession" in navigator)) {
    return;
  }
  var session = navigator.mediaSession;
  var artwork = (audio.getAttribute("data-artwork") || "").split(",").filter(Boolean)
    .map(function (each) {
      var parts = each.split(" ");
      return {src: new URL(parts[0], location.href).href,
              sizes: parts[1] + "x" + parts[1], type: "image/png"};
    });
  if (window.MediaMetadata) {
    session.metadata = new MediaMetadata({
      title: audio.getAttribute("data-title") || document.title,
      artist: "tre-audio",
      album: audio.getAttribute("data-album") || "",
      artwork: artwork
    });
  }

  function chapterAt(seconds) {
    var index = -1;
    starts.forEach(function (start, i) {
      if (start <= seconds + 0.001) {
        index = i;
      }
    });
    return index;
  }

  function previousChapter() {
    var index = chapterAt(audio.currentTime);
    // within 3 s of a chapter's start, go to the one before; else back to its start
    if (index > 0 && audio.currentTime - starts[index] < 3) {
      index -= 1;
    }
    seek(index >= 0 ? starts[index] : 0);
  }

  function nextChapter() {
    var index = chapterAt(audio.currentTime);
    if (index + 1 < starts.length) {
      seek(starts[index + 1]);
    }
  }

  function showPosition() {
    if (session.setPositionState && isFinite(audio.duration) && audio.duration > 0) {
      try {
        session.setPositionState({duration: audio.duration,
                                  playbackRate: audio.playbackRate,
                                  position: Math.min(audio.currentTime, audio.duration)});
      } catch (error) {
        // a state the browser will not take: the lock screen shows no bar
      }
    }
  }

  var actions = {
    play: play,
    pause: function () { audio.pause(); },
    seekbackward: function (details) {
      seek(audio.currentTime - ((details && details.seekOffset) || SKIP));
    },
    seekforward: function (details) {
      seek(Math.min(audio.duration || Infinity,
                    audio.currentTime + ((details && details.seekOffset) || SKIP)));
    },
    seekto: function (details) {
      audio.currentTime = details.seekTime;
      showPosition();
    },
    previoustrack: previousChapter,
    nexttrack: nextChapter
  };
  Object.keys(actions).forEach(function (name) {
    try {
      session.setActionHandler(name, actions[name]);
    } catch (error) {
      // an action this browser does not know
    }
  });
  ["loadedmetadata", "ratechange", "seeked", "play", "pause"].forEach(function (name) {
    audio.addEventListener(name, showPosition);
  });
})();
