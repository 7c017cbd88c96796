// Package hooks holds functions that golden specs name by import path.
package hooks

import "context"

// Stop is an application stop callback.
func Stop(ctx context.Context) {}
