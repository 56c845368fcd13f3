// Starts YASGUI on /query/editor. The page names the endpoint and the prefixes' address in data attributes, so it
// has no inline script. Our own file (served with the vendored YASGUI), set so that the editor asks nothing of
// any other site: the graph's own prefixes instead of prefix.cc, no LOV completers, this endpoint alone.
"use strict";

(function () {
  var holder = document.getElementById("yasgui");
  if (!holder || typeof Yasgui !== "function") {
    return;
  }
  var endpoint = new URL(holder.dataset.endpoint, window.location.href).href;
  var yasgui = new Yasgui(holder, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: {
      getData: function () {
        return [{ endpoint: endpoint }];
      },
      keys: []
    },
    // Remembered in this browser only, under a name of this service.
    persistenceId: "policykg-editor",
    yasqe: {
      prefixCcApi: new URL(holder.dataset.prefixesUrl, window.location.href).href,
      autocompleters: ["prefixes", "variables"]
    },
    yasr: { pluginOrder: ["table", "response"], defaultPlugin: "table" }
  });
  var examples = document.querySelectorAll("#examples button[data-sparql]");
  examples.forEach(function (button) {
    button.addEventListener("click", function () {
      var tab = yasgui.getTab();
      tab.setQuery(button.dataset.sparql);
      tab.getYasqe().query();
    });
  });
  window.policykgEditor = yasgui;
})();
