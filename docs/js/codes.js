// The filter box of the code reference pages: every word typed must appear in a
// card (its code, class, category, retry hint or text) for the card to stay shown.
(function () {
  "use strict";

  function setUp() {
    var input = document.getElementById("pe-filter");
    if (!input || input.dataset.ready) {
      return;
    }
    input.dataset.ready = "1";
    var count = document.getElementById("pe-count");
    var cards = Array.prototype.slice.call(document.querySelectorAll(".pe-code"));
    var texts = cards.map(function (card) {
      return ((card.getAttribute("data-filter") || "") + " " + card.textContent).toLowerCase();
    });

    function apply() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      cards.forEach(function (card, index) {
        var keep = words.every(function (word) {
          return texts[index].indexOf(word) !== -1;
        });
        card.hidden = !keep;
        if (keep) {
          shown += 1;
        }
      });
      if (count) {
        count.textContent = words.length ? shown + " of " + cards.length : cards.length + " codes";
      }
    }

    input.addEventListener("input", apply);
    var query = new URLSearchParams(window.location.search).get("filter");
    if (query) {
      input.value = query;
    }
    apply();
  }

  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(setUp);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
