//go:build tools

// Package dockerdconsul pins the Go sources that Debian's docker.io lacks for a Consul-capable
// dockerd: libkv's Consul store (Debian deletes it) and the Consul API client it uses, with the
// API client's own dependencies missing from Debian. scripts/build-dockerd-consul.sh downloads
// exactly these versions (hash-checked against go.sum) and lays them into a GOPATH. Never compiled.
package dockerdconsul

import (
	_ "github.com/docker/libkv/store/consul"
	_ "github.com/hashicorp/consul/api"
	_ "github.com/hashicorp/go-rootcerts"
	_ "golang.org/x/exp/slices"
)
