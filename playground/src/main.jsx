// GraphiQL for usersvc, bundled by esbuild so the playground works offline.
// The page has a token field: the user pastes their bearer token once, and
// every request carries it, the schema fetch included. Changing it makes
// GraphiQL fetch the schema again, so the docs explorer and autocompletion
// follow the token. Without a token the schema is not requested (the server
// answers only sign-in without one); the docs explorer says what to do.
// Subscriptions run over a WebSocket on /graphql (graphql-transport-ws, the
// npm graphql-ws client), with the same token in connection_init. The line
// beside the field says what the token did: "Schema loaded for <email>" or
// "Token refused: <the server's reason>".
import React from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { createClient } from 'graphql-ws';
import 'graphiql/graphiql.css';

const tokenInput = document.getElementById('token');
const url = new URL('/graphql', window.location.href).toString();
const wsUrl = url.replace(/^http/, 'ws');
let wsClient = null;
const needToken = 'Paste your bearer token into the "Bearer token" field at the top of the page and press Enter; the schema loads with it.';
const statusLine = document.getElementById('token-status');
let current = null;

// say shows text beside the token field, if token is still the one given.
function say(token, text) {
  if (token === current) statusLine.textContent = text;
}

// reportSchema says what the schema fetch with token came to: the reason
// it was refused, or whose schema it is (one more request: the caller's
// email).
function reportSchema(token, result) {
  Promise.resolve(result).then(async (r) => {
    if (r && r.errors && r.errors.length) {
      say(token, `Token refused: ${r.errors[0].message}`);
      return;
    }
    const me = await window.fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ me { email } }' }),
    }).then((x) => x.json());
    const email = me && me.data && me.data.me && me.data.me.email;
    say(token, email ? `Schema loaded for ${email}` : 'Schema loaded');
  }, (e) => say(token, `Token refused: ${e && e.message ? e.message : e}`));
}

function fetcherFor(token) {
  if (wsClient) wsClient.dispose(); // the old token's socket
  wsClient = token
    ? createClient({ url: wsUrl, lazy: true, connectionParams: { Authorization: `Bearer ${token}` } })
    : null;
  const fetcher = createGraphiQLFetcher({
    url,
    wsClient: wsClient || undefined,
    fetch: (input, init = {}) => {
      const headers = new Headers(init.headers);
      if (token) headers.set('Authorization', `Bearer ${token}`);
      return window.fetch(input, { ...init, headers });
    },
  });
  return (params, opts) => {
    if (!token && params.operationName === 'IntrospectionQuery') {
      return Promise.resolve({ errors: [{ message: needToken }] });
    }
    const result = fetcher(params, opts);
    if (params.operationName === 'IntrospectionQuery') reportSchema(token, result);
    return result;
  };
}

const params = new URLSearchParams(window.location.search);
const defaultQuery = params.get('query') || '# Paste your bearer token above and press Enter, then run:\n{ me { id name email role } }\n';
const root = createRoot(document.getElementById('graphiql'));

function render() {
  const token = tokenInput.value.trim().replace(/^bearer\s+/i, '');
  if (token === current) return;
  current = token;
  statusLine.textContent = token ? 'Checking the token…' : 'No token: paste one and press Enter.';
  // A GraphiQL of its own per token (key): GraphiQL writes a failed schema
  // fetch into the result pane ("Paste your bearer token…", a refusal) and
  // never clears it when a later fetch succeeds, so the pane kept asking
  // for a token after a good one. The query is kept (GraphiQL stores it).
  root.render(<GraphiQL key={token} fetcher={fetcherFor(token)} defaultQuery={defaultQuery} shouldPersistHeaders={false} />);
}

tokenInput.addEventListener('change', render);
tokenInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') render(); });
render();
