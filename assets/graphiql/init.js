// Starts GraphiQL on this server. The endpoint, the first query and the example headers come
// from the page's data attributes (there is no inline script, so a strict CSP holds), and every
// request goes to this server alone.
(function () {
  var root = document.getElementById('graphiql');
  var fetcher = GraphiQL.createFetcher({ url: root.dataset.endpoint });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: root.dataset.query,
      defaultHeaders: root.dataset.headers,
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: false,
    })
  );
})();
