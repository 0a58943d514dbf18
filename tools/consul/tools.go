//go:build tools

// Package consultools pins the Consul server that the real-lab tests run.
// The import below is never compiled (build tag "tools"); it only makes
// github.com/hashicorp/consul a requirement of this module so that
// scripts/build-consul.sh can `go build github.com/hashicorp/consul` with the
// versions and hashes committed in go.mod / go.sum.
package consultools

import (
	_ "github.com/hashicorp/consul"
)
