// GraphiQL for usersvc, bundled by esbuild so the playground works offline.
// The page has a token field; every request carries it as a bearer token,
// and changing it makes GraphiQL fetch the schema again with the new token.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/graphiql.css';

const tokenInput = document.getElementById('token');
const url = new URL('/graphql', window.location.href).toString();

function fetcherFor(token) {
  return createGraphiQLFetcher({
    url,
    fetch: (input, init = {}) => {
      const headers = new Headers(init.headers);
      if (token) headers.set('Authorization', `Bearer ${token}`);
      return window.fetch(input, { ...init, headers });
    },
  });
}

const params = new URLSearchParams(window.location.search);
const defaultQuery = params.get('query') || '# Put your bearer token above, then run:\n{ me { id name email role } }\n';
const root = createRoot(document.getElementById('graphiql'));

function render() {
  const token = tokenInput.value.trim();
  root.render(<GraphiQL fetcher={fetcherFor(token)} defaultQuery={defaultQuery} shouldPersistHeaders={false} />);
}

tokenInput.addEventListener('change', render);
render();
