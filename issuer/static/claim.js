// Copy a claim code from the link's fragment (#CODE) into the claim form.
// Browsers never send the fragment to the server, so the code stays out of
// access logs; the fragment is then removed from the address bar.
(function () {
  var code = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  var field = document.getElementById("code");
  if (code && field && !field.value) {
    field.value = code;
  }
  if (window.location.hash && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname);
  }
})();
