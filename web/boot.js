// Starts the dashboard (a file, not an inline script, for the Content-Security-Policy).
import init from "/callbroker_web.js";

init({ module_or_path: "/callbroker_web_bg.wasm" }).catch((err) => {
  console.error("Callbroker failed to start", err);
  document.body.insertAdjacentHTML(
    "beforeend",
    '<p class="cb-load-error">Callbroker could not start in this browser.</p>'
  );
});
