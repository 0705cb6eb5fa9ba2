package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// writeScripts writes the wrk Lua scripts; each thread walks the tokens.
func writeScripts(dir string) map[string]string {
	var creds strings.Builder
	creds.WriteString("local creds = {\n")
	for i := 1; i <= *tokens; i++ {
		fmt.Fprintf(&creds, "{%q,%q},\n", userID(i), secret(i))
	}
	creds.WriteString("}\nlocal n = 0\n")
	// Each wrk thread walks its own share of the tokens (thread t takes
	// every threads-th one from t), and tid goes into written values: two
	// threads never write the same user at once, and every write changes
	// its user (a write of the value a user already holds is a no-op,
	// which the reference PATCH would still send to the database).
	fmt.Fprintf(&creds, "local threads = %d\nlocal next_tid = 0\nfunction setup(thread) thread:set(\"tid\", next_tid); next_tid = next_tid + 1 end\n", *threads)
	creds.WriteString("local function next_cred() n = n + 1; return creds[((n * threads + tid) % #creds) + 1] end\n")
	fmt.Fprintf(&creds, "local users = %d\nmath.randomseed(os.time())\n", *users)
	// adminWrite's targets in Lua: k counts this thread's requests
	// interleaved with the other threads' (n * threads + tid).
	fmt.Fprintf(&creds, "local write_first, write_span = %d, %d\n", writeFirst(), writeSpan())
	creds.WriteString(`local function admin_write() n = n + 1; local k = n * threads + tid
  return string.format("usr-bench%07d", write_first + k % write_span), math.floor(k / write_span) % 2 == 0 end
`)
	bodies := map[string]string{
		"get": `request = function() local c = next_cred()
  return wrk.format("GET", "/api/users/" .. c[1], {["Authorization"] = "Bearer " .. c[2]}) end`,
		"onetoken": `request = function() local c = creds[1]
  return wrk.format("GET", "/api/users/" .. c[1], {["Authorization"] = "Bearer " .. c[2]}) end`,
		"graphql": `request = function() local c = next_cred()
  local body = '{"query":"query($id: ID!) { user(id: $id) { id name email country timeZone tags privileges role } }","variables":{"id":"' .. c[1] .. '"}}'
  return wrk.format("POST", "/graphql", {["Authorization"] = "Bearer " .. c[2], ["Content-Type"] = "application/json"}, body) end`,
		"patch": `request = function() local c = next_cred()
  local body = '[{"op":"replace","path":"/description","value":"d' .. tid .. '-' .. n .. '"}]'
  return wrk.format("PATCH", "/api/users/" .. c[1], {["Authorization"] = "Bearer " .. c[2], ["Content-Type"] = "application/json-patch+json"}, body) end`,
		"other": `request = function() local c = creds[1]
  local id = string.format("usr-bench%07d", math.random(1, users))
  return wrk.format("GET", "/api/users/" .. id, {["Authorization"] = "Bearer " .. c[2]}) end`,
		// SCIM against REST (scim.go): the admin's token throughout.
		"scimfilter": `request = function() local c = creds[1]
  local path = "/scim/v2/Users?filter=userName%20eq%20%22user" .. math.random(1, users) .. "%40example.com%22"
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. c[2]}) end`,
		"scimpatch": `request = function() local c = creds[1]
  local id, disable = admin_write()
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":' .. tostring(not disable) .. '}}]}'
  return wrk.format("PATCH", "/scim/v2/Users/" .. id, {["Authorization"] = "Bearer " .. c[2], ["Content-Type"] = "application/scim+json"}, body) end`,
		"restdisable": `request = function() local c = creds[1]
  local id, disable = admin_write()
  local body = '[{"op":"replace","path":"/disabled","value":' .. tostring(disable) .. '}]'
  return wrk.format("PATCH", "/api/users/" .. id, {["Authorization"] = "Bearer " .. c[2], ["Content-Type"] = "application/json-patch+json"}, body) end`,
		"scimpage": `request = function() local c = creds[1]
  return wrk.format("GET", "/scim/v2/Users?startIndex=1&count=100", {["Authorization"] = "Bearer " .. c[2]}) end`,
		"scimdeep": `request = function() local c = creds[1]
  return wrk.format("GET", "/scim/v2/Users?startIndex=" .. math.random(1, users - 99) .. "&count=100", {["Authorization"] = "Bearer " .. c[2]}) end`,
		"restpage": `request = function() local c = creds[1]
  return wrk.format("GET", "/api/users?limit=100", {["Authorization"] = "Bearer " .. c[2]}) end`,
		"users": `request = function() local c = creds[1]
  local body = '{"query":"{ users(first: 50) { totalCount edges { cursor node { id name email country timeZone tags role } } } }"}'
  return wrk.format("POST", "/graphql", {["Authorization"] = "Bearer " .. c[2], ["Content-Type"] = "application/json"}, body) end`,
		"signin": `request = function() local c = next_cred()
  local i = tonumber(string.sub(c[1], 10))
  local body = '{"userName":"user' .. i .. '@example.com","password":"` + benchPassword + `"}'
  return wrk.format("POST", "/api/Auth/Token", {["Content-Type"] = "application/json"}, body) end`,
		"put": `request = function() local c = next_cred()
  local i = tonumber(string.sub(c[1], 10))
  local body = '{"name":"User ' .. i .. '","email":"user' .. i .. '@example.com","country":"ES","timeZone":"Europe/Madrid","description":"p' .. tid .. '-' .. n .. '"}'
  return wrk.format("PUT", "/api/users/" .. c[1], {["Authorization"] = "Bearer " .. c[2], ["Content-Type"] = "application/json"}, body) end`,
	}
	out := map[string]string{}
	for name, body := range bodies {
		p := filepath.Join(dir, name+".lua")
		must(os.WriteFile(p, []byte(creds.String()+body+"\n"), 0o644))
		out[name] = p
	}
	return out
}

var (
	reRPS   = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	reP50   = regexp.MustCompile(`\s50%\s+([\d.]+)(us|ms|s)`)
	reP99   = regexp.MustCompile(`\s99%\s+([\d.]+)(us|ms|s)`)
	reTotal = regexp.MustCompile(`(\d+) requests in`)
	reNon2  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reErr   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func ms(m []string) float64 {
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	switch m[2] {
	case "us":
		return v / 1000
	case "s":
		return v * 1000
	}
	return v
}

func parseWrk(out string) result {
	var r result
	if m := reRPS.FindStringSubmatch(out); m != nil {
		r.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	r.p50, r.p99 = ms(reP50.FindStringSubmatch(out)), ms(reP99.FindStringSubmatch(out))
	if m := reTotal.FindStringSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reNon2.FindStringSubmatch(out); m != nil {
		r.errors, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reErr.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.errors += n
		}
	}
	return r
}
