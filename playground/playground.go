// Package playground serves GraphiQL from assets embedded in the binary, so
// the playground works with no internet. The assets are built from the npm
// graphiql package by `make playground` into dist/ and committed, so every
// build (make run, go build, go install) has them with no Node on the
// machine; CI checks that `make playground` reproduces them byte for byte.
// Should dist/ be emptied, the page says how to build them and the rest of
// the server is unaffected.
package playground

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
)

//go:embed all:dist
var dist embed.FS

// CSP is the playground's Content-Security-Policy: everything from this
// origin only, no inline script, no eval, no framing.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// BuildHint tells an operator how to build the assets.
const BuildHint = "GraphiQL assets are not built: run `make playground` (needs Node and npm), then rebuild the server"

// Available reports whether the GraphiQL assets are embedded.
func Available() bool {
	_, err := fs.Stat(dist, "dist/graphiql.js")
	return err == nil
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>usersvc GraphiQL</title>
{{if .Available}}<link rel="stylesheet" href="/playground/graphiql.css">{{end}}
<link rel="stylesheet" href="/playground/page.css">
</head>
<body>
<header><label for="token">Bearer token</label> <input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="usv_…"> <span id="token-status" role="status"></span></header>
{{if .Available}}<div id="graphiql"></div>
<script src="/playground/graphiql.js"></script>
{{else}}<p id="missing">{{.Hint}}.</p>{{end}}
</body>
</html>
`))

const pageCSS = `html,body{height:100%;margin:0}body{display:flex;flex-direction:column;font-family:system-ui,sans-serif}
header{padding:6px 10px;border-bottom:1px solid #ddd;display:flex;gap:8px;align-items:center}
header input{flex:1;max-width:40em;font-family:monospace}#token-status{color:#555}#graphiql{flex:1;min-height:0}#missing{padding:1em}`

// Handler serves the page at /playground and its assets below it.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /playground", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, map[string]any{"Available": Available(), "Hint": BuildHint})
	})
	mux.HandleFunc("GET /playground/page.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write([]byte(pageCSS))
	})
	sub, _ := fs.Sub(dist, "dist") // "dist" is always embedded (it holds .gitkeep)
	files := http.FileServerFS(sub)
	for _, name := range []string{"graphiql.js", "graphiql.css", "graphiql.js.LEGAL.txt"} {
		mux.Handle("GET /playground/"+name, http.StripPrefix("/playground", files))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", CSP)
		w.Header().Set("X-Frame-Options", "DENY")
		mux.ServeHTTP(w, r)
	})
}
