// The live room: operators schedule sessions from the sessions page; the room follows the
// session's Server-Sent Events (votes, new and answered questions move without reloading) and
// sends RSVPs, questions, votes and answers to the API; on the courses page, marks lessons
// completed.
(function () {
  "use strict";

  function call(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.detail || response.statusText); }
        return data;
      });
    });
  }

  function text(tag, className, value) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    node.textContent = value;
    return node;
  }

  function room(section) {
    var id = section.dataset.session;
    var list = document.getElementById("questions");
    var status = document.getElementById("live-connection");
    var voter = section.dataset.voter === "yes";
    var host = section.dataset.host === "yes";
    var base = "/v1/live/sessions/" + id;

    function render(q) {
      var item = document.getElementById("question-" + q.id);
      if (!item) {
        var empty = document.getElementById("no-questions");
        if (empty) { empty.remove(); }
        item = document.createElement("li");
        item.className = "question";
        item.id = "question-" + q.id;
        item.dataset.id = q.id;
        var votes = text("span", "votes", "0");
        votes.id = "votes-" + q.id;
        item.append(votes, " votes · ", text("span", "body", q.body), " ", text("span", "muted", "— " + q.asker));
        if (voter) {
          var button = text("button", "vote", "▲ Vote");
          button.type = "button";
          button.dataset.id = q.id;
          item.append(" ", button);
        }
        if (host) {
          var answer = text("button", "answer-button", "Mark answered");
          answer.type = "button";
          answer.dataset.id = q.id;
          item.append(" ", answer);
        }
        list.append(item);
      }
      item.dataset.votes = q.votes;
      document.getElementById("votes-" + q.id).textContent = q.votes;
      if (q.answered_at && !item.querySelector(".answered")) {
        var done = item.querySelector(".answer-button");
        if (done) { done.remove(); }
        item.append(" ", text("span", "tag answered", "answered"));
      }
    }

    function sort() {
      var items = Array.prototype.slice.call(list.querySelectorAll("li.question"));
      items.sort(function (a, b) {
        return (b.dataset.votes - a.dataset.votes) || (a.dataset.id - b.dataset.id);
      });
      items.forEach(function (item) { list.append(item); });
    }

    if (section.dataset.state === "upcoming" || section.dataset.state === "live") {
      var source = new EventSource(base + "/events");
      source.addEventListener("open", function () { status.textContent = "Live: votes update as they are cast."; });
      source.addEventListener("error", function () { status.textContent = "Reconnecting…"; });
      source.addEventListener("snapshot", function (e) { JSON.parse(e.data).forEach(render); sort(); });
      source.addEventListener("question", function (e) { render(JSON.parse(e.data)); sort(); });
      source.addEventListener("ended", function () { source.close(); status.textContent = "The session is over."; });
      source.addEventListener("resync", function () { status.textContent = "Catching up…"; });
    }

    list.addEventListener("click", function (e) {
      var target = e.target;
      if (target.classList.contains("vote")) {
        target.disabled = true;
        call("PUT", base + "/questions/" + target.dataset.id + "/vote").then(render).catch(function (err) {
          status.textContent = err.message;
        });
      } else if (target.classList.contains("answer-button")) {
        call("POST", base + "/questions/" + target.dataset.id + "/answer", { answer: "" }).then(render);
      }
    });

    var form = document.getElementById("ask-form");
    if (form) {
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var input = document.getElementById("ask-body");
        call("POST", base + "/questions", { body: input.value }).then(function (q) {
          input.value = "";
          render(q);
        }).catch(function (err) { status.textContent = err.message; });
      });
    }

    var rsvp = document.getElementById("rsvp-button");
    if (rsvp) {
      rsvp.addEventListener("click", function () {
        var attending = rsvp.dataset.attending === "yes";
        call(attending ? "DELETE" : "PUT", base + "/rsvp").then(function (r) {
          rsvp.dataset.attending = r.attending ? "yes" : "";
          rsvp.textContent = r.attending ? "Cancel my place" : "RSVP";
          document.getElementById("rsvp-status").textContent = r.attending ? "You have a place; a reminder will come." : "";
          document.getElementById("live-places").textContent = r.rsvp_count + " / " + r.capacity;
        }).catch(function (err) { document.getElementById("rsvp-status").textContent = err.message; });
      });
    }
  }

  function schedule(form) {
    function value(id) { return document.getElementById(id).value.trim(); }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var status = document.getElementById("schedule-status");
      status.textContent = "";
      var verticals = value("schedule-verticals").split(",").map(function (v) { return v.trim(); });
      call("POST", "/v1/live/sessions", {
        topic: value("schedule-topic"),
        description: value("schedule-description"),
        host_creator_id: Number(value("schedule-host")),
        verticals: verticals.filter(function (v) { return v !== ""; }),
        starts_at: value("schedule-starts") + ":00Z",
        ends_at: value("schedule-ends") + ":00Z",
        capacity: Number(value("schedule-capacity")),
      }).then(function (s) {
        window.location.assign("/dashboard/live/" + s.id);
      }).catch(function (err) { status.textContent = err.message; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.getElementById("live-room");
    if (section) { room(section); }
    var form = document.getElementById("schedule-form");
    if (form) { schedule(form); }
    document.querySelectorAll("button.complete").forEach(function (button) {
      button.addEventListener("click", function () {
        call("PUT", "/v1/courses/" + button.dataset.course + "/lessons/" + button.dataset.lesson + "/completion").then(function () {
          button.replaceWith(text("span", "tag done", "completed"));
        });
      });
    });
  });
})();
