package jsonreply_test

import (
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/arborgo/arbor/internal/jsonreply"
)

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		method string
		v      any
		status int
		body   string
	}{
		{http.MethodGet, map[string]int{"a": 1}, http.StatusOK, "{\"a\":1}\n"},
		{http.MethodHead, map[string]int{"a": 1}, http.StatusOK, ""},
		{http.MethodGet, math.Inf(1), http.StatusInternalServerError, "{\"error\":\"json: unsupported value: +Inf\"}\n"},
	} {
		rec := httptest.NewRecorder()
		jsonreply.Write(rec, httptest.NewRequest(tc.method, "/", nil), http.StatusOK, tc.v)
		if rec.Code != tc.status || rec.Body.String() != tc.body {
			t.Errorf("%s %v: %d %q, want %d %q", tc.method, tc.v, rec.Code, rec.Body.String(), tc.status, tc.body)
		}
		h := rec.Header()
		if h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", tc.method, h)
		}
		if tc.method == http.MethodHead && h.Get("Content-Length") != "8" {
			t.Errorf("HEAD: Content-Length %q, want the GET body's 8", h.Get("Content-Length"))
		}
	}
}
