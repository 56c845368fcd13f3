// The contribution forms, quicker where script runs; they work without it. Our own file, served from
// /contribute/assets under a name that carries a hash of its content (the pages' policy runs no other script).
//
// - A picker (a <select data-choices="…"> of the things of a class) becomes a search box: as the person types, it
//   asks the service which things' names hold the words (/contribute/choices, JSON) and lists them under the box,
//   an ARIA combobox with its listbox: Down and Up move through the list, Enter chooses, Escape closes it. The
//   <select> stays in the form, hidden, and carries the chosen thing's IRI as before.
// - "Add another" (a submit button that asks the server for one more box) adds the box in place instead.
"use strict";

(function () {
  var DELAY = 150; // ms after the last key before asking
  var LIMIT = 10; // things listed at most
  var pickers = 0;

  function nameOf(field, key) {
    // The field's name: the first text of its label (the asterisk of a required field is an element of its own).
    var label = field.querySelector('label[for="' + key + '-0"]');
    return label && label.firstChild ? label.firstChild.textContent.trim() : key;
  }

  function enhancePicker(select) {
    var id = select.id;
    var number = ++pickers;
    var input = document.createElement("input");
    var list = document.createElement("ul");
    var status = document.createElement("span");
    var box = document.createElement("div");
    var shown = []; // the things listed: {iri, label}
    var active = -1; // the one the arrows are on
    var asked = 0; // the number of the newest request: older answers are dropped
    var timer = null;

    input.type = "text";
    input.size = 60;
    input.autocomplete = "off";
    input.spellcheck = false;
    input.placeholder = "type words of its name";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    list.id = "picker-" + number + "-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.setAttribute("aria-controls", list.id);
    status.id = "picker-" + number + "-status";
    status.className = "meta picker-status";
    status.setAttribute("role", "status");
    box.className = "combo";
    // The box takes the select's place: its id (the label's "for", the problems' links), its name for screen
    // readers and what describes it; the select keeps the value and leaves the keyboard's way.
    ["aria-label", "aria-describedby", "aria-invalid", "aria-required"].forEach(function (name) {
      if (select.hasAttribute(name)) {
        input.setAttribute(name, select.getAttribute(name));
        select.removeAttribute(name);
      }
    });
    input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + status.id).trim());
    var label = document.querySelector('label[for="' + id + '"]');
    var named = input.getAttribute("aria-label") || (label && label.firstChild ? label.firstChild.textContent.trim() : id);
    list.setAttribute("aria-label", named + ": things that match");
    select.id = id + "-chosen";
    input.id = id;
    select.hidden = true;
    select.tabIndex = -1;
    select.setAttribute("aria-hidden", "true");
    var chosen = select.selectedIndex > 0 ? select.options[select.selectedIndex] : null;
    input.value = chosen ? chosen.textContent : "";
    box.appendChild(input);
    box.appendChild(list);
    select.parentNode.insertBefore(box, select);
    box.parentNode.insertBefore(status, box.nextSibling);

    function chosenLabel() {
      return select.selectedIndex > 0 ? select.options[select.selectedIndex].textContent : "";
    }

    function open(isOpen) {
      list.hidden = !isOpen;
      input.setAttribute("aria-expanded", isOpen ? "true" : "false");
      if (!isOpen) {
        move(-1);
      }
    }

    function move(to) {
      var options = list.querySelectorAll('[role="option"]');
      active = to;
      options.forEach(function (option, index) {
        option.setAttribute("aria-selected", index === to ? "true" : "false");
      });
      if (to >= 0 && options[to]) {
        input.setAttribute("aria-activedescendant", options[to].id);
        options[to].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var thing = shown[index];
      clearTimeout(timer); // words typed just before do not open the list again
      asked++;
      var option = Array.prototype.find.call(select.options, function (o) {
        return o.value === thing.iri;
      });
      if (!option) {
        option = new Option(thing.label, thing.iri);
        select.appendChild(option);
      }
      select.value = thing.iri;
      input.value = thing.label;
      status.textContent = "Chosen: " + thing.label + ".";
      open(false);
    }

    function show(found, more, words) {
      shown = found;
      list.textContent = "";
      found.forEach(function (thing, index) {
        var option = document.createElement("li");
        var iri = document.createElement("span");
        option.id = list.id + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = thing.label + " ";
        iri.className = "iri";
        iri.textContent = thing.iri.replace(/^.*\/id\//, "");
        option.appendChild(iri);
        option.addEventListener("mousedown", function (event) {
          event.preventDefault(); // the box keeps the focus
        });
        option.addEventListener("click", function () {
          choose(index);
        });
        list.appendChild(option);
      });
      var n = found.length;
      var quoted = words ? " for “" + words + "”" : "";
      status.textContent = n === 0 ? "No match" + quoted + "." :
        (more ? "The first " + n + " matches" : n + (n === 1 ? " match" : " matches")) + quoted +
        ": Down arrow to go through them, Enter to choose." + (more ? " More words narrow the list." : "");
      open(n > 0);
      move(-1);
    }

    function search() {
      var words = input.value.trim();
      var number = ++asked;
      var url = select.dataset.choices + "&limit=" + LIMIT + "&q=" + encodeURIComponent(words);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (answer) {
          if (!answer.ok) {
            throw new Error("status " + answer.status);
          }
          return answer.json();
        })
        .then(function (found) {
          if (number === asked && document.activeElement === input) {
            show(found.choices, found.more, words);
          }
        })
        .catch(function () {
          if (number === asked) {
            status.textContent = "The search did not answer: try again.";
          }
        });
    }

    input.addEventListener("input", function () {
      if (input.value !== chosenLabel()) {
        select.value = ""; // the words no longer name the thing chosen: nothing is chosen until one is
        status.textContent = "";
      }
      clearTimeout(timer);
      timer = setTimeout(search, DELAY);
    });
    input.addEventListener("keydown", function (event) {
      var count = list.querySelectorAll('[role="option"]').length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) {
          if (count > 0 && !event.altKey) {
            open(true);
            move(event.key === "ArrowDown" ? 0 : count - 1);
          } else {
            clearTimeout(timer);
            search();
          }
          return;
        }
        if (event.altKey) {
          return;
        }
        var step = event.key === "ArrowDown" ? 1 : -1;
        move(active < 0 ? (step > 0 ? 0 : count - 1) : (active + step + count) % count);
      } else if (event.key === "Enter" && !list.hidden) {
        event.preventDefault(); // choosing from the list never sends the form
        if (active >= 0) {
          choose(active);
        } else {
          open(false);
        }
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        open(false);
      }
    });
    input.addEventListener("blur", function () {
      clearTimeout(timer);
      asked++; // an answer still on its way is not shown
      var typed = input.value.trim().toLowerCase();
      if (typed && !select.value) {
        // Words that are exactly the name of one thing listed choose it.
        var same = shown.filter(function (thing) {
          return thing.label.toLowerCase() === typed;
        });
        if (same.length === 1) {
          choose(shown.indexOf(same[0]));
        }
      }
      open(false);
    });
    var find = select.closest(".field") && select.closest(".field").querySelector(".find");
    if (find) {
      find.hidden = true; // the box searches by itself
    }
  }

  function anotherSlot(field, key, pristine, index) {
    // A copy of the field's first box (as the server sent it), empty, numbered index.
    var slot = pristine.cloneNode(true);
    var first = key + "-0";
    var now = key + "-" + index;
    slot.querySelectorAll('[id$="-file"], label[for$="-file"], br').forEach(function (element) {
      element.remove(); // a file is uploaded in the first box only
    });
    slot.querySelectorAll("[id]").forEach(function (element) {
      if (element.id === first || element.id.indexOf(first + "-") === 0) {
        element.id = now + element.id.slice(first.length);
      }
    });
    slot.querySelectorAll("label[for]").forEach(function (label) {
      var target = label.getAttribute("for");
      if (target === first || target.indexOf(first + "-") === 0) {
        label.setAttribute("for", now + target.slice(first.length));
      }
    });
    slot.querySelectorAll("input, textarea, select").forEach(function (control) {
      control.removeAttribute("aria-required");
      control.removeAttribute("aria-invalid");
      var described = (control.getAttribute("aria-describedby") || "").split(" ").filter(function (token) {
        return token && token !== key + "-error";
      });
      if (described.length) {
        control.setAttribute("aria-describedby", described.join(" "));
      } else {
        control.removeAttribute("aria-describedby");
      }
      if (control.tagName === "SELECT") {
        Array.prototype.forEach.call(control.options, function (option) {
          option.removeAttribute("selected");
        });
        control.selectedIndex = 0;
      } else if (/\.lang$/.test(control.name)) {
        control.setAttribute("value", "en");
        control.value = "en";
      } else {
        if (control.tagName === "TEXTAREA") {
          control.textContent = "";
        }
        control.removeAttribute("value");
        control.value = "";
      }
    });
    var main = slot.querySelector("#" + CSS.escape(now));
    if (main) {
      main.setAttribute("aria-label", nameOf(field, key) + ", value " + (index + 1));
    }
    return slot;
  }

  // "Add another": the pristine first box of each field is kept before any picker is changed into a search box.
  var adders = [];
  document.querySelectorAll('button[name="action"][value^="more:"]').forEach(function (button) {
    var key = button.value.slice("more:".length);
    var field = button.closest(".field");
    var slots = field ? field.querySelectorAll(".slot") : [];
    if (slots.length) {
      adders.push({ button: button, key: key, field: field, pristine: slots[0].cloneNode(true) });
    }
  });
  document.querySelectorAll("select[data-choices]").forEach(enhancePicker);
  adders.forEach(function (adder) {
    var max = parseInt(adder.button.dataset.max || "0", 10);
    adder.button.addEventListener("click", function (event) {
      event.preventDefault(); // no round trip: the box is added here
      var slots = adder.field.querySelectorAll(".slot");
      var slot = anotherSlot(adder.field, adder.key, adder.pristine, slots.length);
      slots[slots.length - 1].after(slot);
      var select = slot.querySelector("select[data-choices]");
      if (select) {
        enhancePicker(select);
      }
      var control = slot.querySelector("#" + CSS.escape(adder.key + "-" + slots.length));
      if (control) {
        control.focus();
      }
      if (max && slots.length + 1 >= max) {
        adder.button.hidden = true;
      }
    });
  });
})();
