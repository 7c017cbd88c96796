// Package jsonreply writes the JSON answers of arbor's HTTP handlers (the
// observer's API and the health endpoints) in one way: never cached, never
// sniffed, with a body only when the request is not HEAD.
package jsonreply

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Write answers r with status and v as JSON, followed by a newline. A v
// that does not marshal gives a 500 with {"error": why}.
func Write(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	body = append(body, '\n')
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
