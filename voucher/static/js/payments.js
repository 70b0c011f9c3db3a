// Card payment of self-shares (progressive enhancement: without JavaScript the provider bills).
// Stripe.js turns the card into a token in the browser (the card number never reaches our
// server); the form posts the token; when the bank asks for 3-D Secure, the page comes back
// with the intent's secret and Stripe.js finishes the payment. Then the page waits for the
// payment service's confirmation (the webhook) by polling the payment's state.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  var poll = document.getElementById("payment-poll");

  function waitForConfirmation(statusUrl, reloadUrl) {
    var tries = 0;
    function check() {
      tries += 1;
      fetch(statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (data.status !== "pending") {
            window.location.assign(reloadUrl);
          } else if (tries < 60) {
            window.setTimeout(check, 1000);
          }
        })
        .catch(function () { if (tries < 60) { window.setTimeout(check, 2000); } });
    }
    window.setTimeout(check, 1000);
  }

  if (poll) {
    waitForConfirmation(poll.dataset.statusUrl, poll.dataset.reloadUrl);
  }
  if (!form || typeof window.Stripe !== "function") {
    return;
  }
  var stripe = window.Stripe(form.dataset.publishableKey);
  var elements = stripe.elements();
  var card = elements.create("card");
  card.mount("#card-element");
  var errors = document.getElementById("card-errors");
  var button = form.querySelector("button[type=submit]");

  // Name the fields of the card element for assistive technology (the local fake's inputs
  // have placeholders only; Stripe's own element is an iframe with its own labels).
  // The names come translated from the page (data-label-number, data-label-exp_month, …).
  var labels = document.getElementById("card-element").dataset;
  document.querySelectorAll("#card-element input").forEach(function (input) {
    var name = labels["label" + (input.getAttribute("placeholder") || "").replace(
      /(^|_)([a-z])/g, function (match, sep, letter) { return letter.toUpperCase(); })];
    if (name && !input.getAttribute("aria-label")) { input.setAttribute("aria-label", name); }
  });

  function showError(message) {
    errors.textContent = message;
    button.disabled = false;
  }

  if (form.dataset.clientSecret) {
    // The bank asked for 3-D Secure: let Stripe.js run it, then wait for the confirmation.
    button.disabled = true;
    stripe.confirmCardPayment(form.dataset.clientSecret).then(function (result) {
      if (result.error) {
        showError(form.dataset.messageDeclined + " " + (result.error.message || ""));
      } else {
        window.location.assign(form.dataset.doneUrl);
      }
    });
  }

  form.addEventListener("submit", function (event) {
    if (form.elements.stripe_token.value) {
      return;  // the token is there: submit for real
    }
    event.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    stripe.createToken(card).then(function (result) {
      if (result.error || !result.token) {
        showError(form.dataset.messageError + " " +
                  ((result.error && result.error.message) || ""));
        return;
      }
      form.elements.stripe_token.value = result.token.id;
      form.submit();
    });
  });
})();
