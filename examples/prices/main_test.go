package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Quotes reach every subscription of their symbol, twice for a watcher
// subscribed twice; a crashed watcher's subscriptions go with it; an
// unsubscribed one gets nothing; the audit hears of every subscription and
// unsubscription from the registry, and of the crash from its monitor.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := `alice subscribed to AAPL
bob subscribed to AAPL, GOOG
carol subscribed to GOOG, GOOG
subscriptions: AAPL 2, GOOG 3 (prices in USD)
publish AAPL 189.50: reached 2 subscriptions
publish GOOG 140.25: reached 3 subscriptions
alice saw [AAPL 189.50]
bob saw [AAPL 189.50 GOOG 140.25]
carol saw [GOOG 140.25 GOOG 140.25]
bob crashed; subscriptions: AAPL 1, GOOG 2
alice unsubscribed from AAPL
publish AAPL 190.00: reached 0 subscriptions
carol's symbols: [GOOG GOOG]; 2 subscriptions left
audit: register AAPL alice
audit: register AAPL bob
audit: register GOOG bob
audit: register GOOG carol
audit: register GOOG carol
audit: down bob: bad tick
audit: unregister AAPL alice
stopping
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("run printed (-want +got):\n%s", diff)
	}
}
