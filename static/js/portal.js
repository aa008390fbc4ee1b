// Portal enhancements on top of htmx; every form works without them.

// The portal's forms answer a refused submission with 400 and the part of
// the page that shows why (field errors, a flash message). htmx drops error
// responses by default; inside the portal, show them.
document.addEventListener("htmx:beforeSwap", (event) => {
  const detail = event.detail;
  if (detail.xhr && detail.xhr.status === 400 && detail.elt && detail.elt.closest("[data-portal]")) {
    detail.shouldSwap = true;
    detail.isError = false;
  }
});
